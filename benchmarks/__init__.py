"""`make bench`: the figures of issue 16, measured against gunicorn on PostgreSQL and Redis. Not tests."""
