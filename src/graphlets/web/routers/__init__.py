"""One router per area of the UI; each registers HTML pages with their ``/api`` twins."""
