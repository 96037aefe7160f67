"""The Textual app: screens and widgets over the small core API.

Empty until the TUI issue lands; kept so the package layout is settled.
"""
