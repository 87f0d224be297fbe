"""rasa-sdk action server: forms, lookups, service requests, fallbacks.

rasa-sdk imports every module of this package and registers its actions.
"""
