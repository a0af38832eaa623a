"""Taking the money for a parcel at pick-up: by a link to the shop's payment provider,
or by the card terminal in the kiosk."""
