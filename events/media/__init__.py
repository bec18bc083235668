"""Media beside events: checking and cleaning uploads (uploads.py), resized copies (specs.py) and
links to outside media shown as cards or click-to-load players (links.py)."""
