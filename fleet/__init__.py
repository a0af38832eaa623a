"""The fleet hub: many stations report to it over an MQTT 5 broker; it keeps their data in
PostgreSQL."""
