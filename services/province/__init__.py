"""The province's eyes (issue 15): the dashboard across tenants, the cross-tenant indicator
comparison, target suggestions and spot checks (抽查)."""
