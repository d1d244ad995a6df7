"""HTTP routers: submissions, assignments, gradebook (under /api/v1) and pages (/, /healthz)."""
