"""Telling people outside: an outbox written with every change, turned into deliveries
(mail, the shop's webhook, the carrier's webhook) and sent with retries."""
