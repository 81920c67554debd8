"""Third-party evaluator grants (第三方授权): scoped, expiring, revocable access to one project."""
