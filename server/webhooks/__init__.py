"""Webhooks: organizers' endpoints, the deliveries the booking transactions write, and the
sender that signs and posts them (stampede-api.md §9)."""
