"""Seat allocation: capacity and the event lock, registering groups and people, the waiting
list, tickets (QR codes) and their printing."""
