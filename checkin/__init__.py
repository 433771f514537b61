"""Tickets, QR codes, seat allocation, scanning and offline sync."""
