"""The people the station knows: accounts, the directory, kiosk devices and attempt limits."""
