"""The web app keeps no models: the security event log moved to xinglin.core (its table keeps
the name web_securityevent)."""
