"""A day's photos as observations: EXIF date, time and place, offline place names, and the CSV table."""
