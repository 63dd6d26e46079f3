"""Webinars and meetings: announcements with an .ics file, sign-ups with a waiting list,
reminders, the agenda, and afterwards their recordings and materials."""
