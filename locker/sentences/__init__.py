"""The station's codes as sentences in English and German: refusals (a problem's stable
``code``), audit rows, events and alerts. The screens of the station and of the hub say
them; the APIs keep the codes (their contract) and their own English messages."""
