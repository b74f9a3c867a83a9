"""What talks to the world: MongoDB, NATS, mail, the OIDC provider, authlib (the OpenID Provider)."""
