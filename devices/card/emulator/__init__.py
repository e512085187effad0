"""Card side of an eMRTD chip, for tests and demos (talks to vpcd)."""
