"""Players behind one small interface: given a state, choose a move (optionally with an evaluation)."""
