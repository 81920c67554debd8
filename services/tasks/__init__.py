"""The work queue: 待办 derived from the state of the stages, 已办 from the audit trail."""
