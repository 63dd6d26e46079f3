"""Surveys (sondages) on native Matrix polls, and the recurring pulse."""
