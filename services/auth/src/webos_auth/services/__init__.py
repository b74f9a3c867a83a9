"""Use cases: accounts and sessions, `/token` grants, single sign-on, declared permissions."""
