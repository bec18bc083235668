"""The editors' desk: thin views over events.selectors/desk_selectors and events.services.

home.py (front page and its "see more" lists), events.py (log a development, edit an event),
expectations.py (raise, fulfil, extend, cancel, review), history.py (versions, diff, restore,
corrections), lookups.py (as-you-type suggestions and the Markdown preview).
"""
