"""Chess notation: FEN (Forsyth-Edwards Notation), UCI long algebraic moves and SAN (Standard Algebraic
Notation, PGN standard 1994, section 8.2.3), with errors that name the field or the move and say why.

Internal moves are the ``int64`` codes of ``rules`` (from, to, promotion, piece, flags); the game facade
(``games.chess.Chess``) turns them into actions.
"""

from __future__ import annotations

import re

import numpy as np

from ..base import IllegalMove
from . import rules as R
from . import tables as T

__all__ = [
    "FenError", "START_FEN", "board_letters", "square_name", "parse_square", "board_from_fen", "fen_of", "uci_of",
    "san_of", "parse_uci_move", "parse_san_move", "legal_move_list", "why_illegal", "PIECE_LETTERS",
]

START_FEN = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"
PIECE_LETTERS = "PNBRQK"
PIECE_NAMES = ("pawn", "knight", "bishop", "rook", "queen", "king")
COLOUR_NAMES = ("white", "black")
FILES = "abcdefgh"
MAX_FEN_COUNTER = 1_000_000
"""The largest halfmove clock or fullmove number a FEN may give (real games stay in the hundreds)."""


class FenError(IllegalMove):
    """A malformed or impossible FEN. It is an ``IllegalMove`` (a ``ValueError``) so that every command that
    reports bad moves cleanly reports bad positions the same way; the message names the wrong field."""


def square_name(sq: int) -> str:
    return FILES[sq & 7] + str((sq >> 3) + 1)


def parse_square(text: str) -> int:
    if len(text) != 2 or text[0] not in FILES or text[1] not in "12345678":
        raise ValueError(f"{text!r} is not a square (a1..h8)")
    return (int(text[1]) - 1) * 8 + FILES.index(text[0])


def _bb(x) -> int:
    return int(x) & 0xFFFFFFFFFFFFFFFF


def piece_at(state: np.ndarray, sq: int) -> tuple[int, int] | None:
    """(colour, piece) on ``sq`` or None."""
    b = 1 << sq
    if not (_bb(state[R.WHITE_BB]) | _bb(state[R.BLACK_BB])) & b:
        return None
    colour = 0 if _bb(state[R.WHITE_BB]) & b else 1
    for p in range(6):
        if _bb(state[p]) & b:
            return colour, p
    raise AssertionError("colour bitboard without a piece")  # pragma: no cover


def board_letters(state: np.ndarray) -> list[str]:
    """FEN letter of each square ``a1..h8`` (``""`` when empty), read from the current position's mailbox."""
    base = R.MAILBOX + 4 * (int(state[R.PLY]) % R.HISTORY_SLOTS)
    out = []
    for w in state[base:base + 4]:
        w = int(w) & 0xFFFFFFFFFFFFFFFF
        for i in range(16):
            code = (w >> (4 * i)) & 15
            out.append("" if code == 0 else _CODE_LETTERS[code - 1])
    return out


_CODE_LETTERS = PIECE_LETTERS + PIECE_LETTERS.lower()


# ------------------------------------------------------------------------------------------ FEN
def board_from_fen(params: np.ndarray, fen: str) -> np.ndarray:
    """A state from a FEN (6 fields; with 4 or 5 the clocks default to 0 and 1). ``FenError`` names the field."""
    if not isinstance(fen, str):
        raise FenError(f"a FEN must be a string, got {type(fen).__name__}")
    fields = fen.split()
    if len(fields) not in (4, 5, 6):
        raise FenError(f"FEN {fen!r} has {len(fields)} fields; it needs 6 (piece placement, side to move, castling, "
                       "en passant, halfmove clock, fullmove number)")
    placement, side, castling, ep = fields[:4]
    halfmove, fullmove = (fields[4:] + ["0", "1"][len(fields) - 4:])[:2]
    boards = _fen_boards(placement)
    if side not in ("w", "b"):
        raise FenError(f"FEN side to move must be 'w' or 'b', got {side!r}")
    us = 0 if side == "w" else 1
    rights = _fen_castling(castling, boards)
    ep_sq = _fen_en_passant(ep, boards, us)
    half, full = _fen_clocks(halfmove, fullmove)
    s = np.zeros(R.STATE_SIZE, dtype=np.int64)
    for i, v in enumerate(boards):
        s[i] = np.int64(v - (1 << 64) if v >= 1 << 63 else v)
    s[R.SIDE] = us
    s[R.CASTLE] = rights
    if ep_sq >= 0 and not int(params[T.PAWN_ATT + (1 - us) * 64 + ep_sq]) & boards[R.PAWN] & boards[R.WHITE_BB + us]:
        ep_sq = -1  # as after a double step in ``make``: kept only when a pawn of ours stands ready to take
    s[R.EP] = ep_sq
    s[R.HALFMOVE] = half
    s[R.PLY] = 2 * (full - 1) + us
    probe = s.copy()
    probe[R.SIDE] = 1 - us
    probe[R.EP] = -1
    if R.in_check(params, probe):
        raise FenError(f"FEN position is impossible: {COLOUR_NAMES[1 - us]} is in check but {COLOUR_NAMES[us]} "
                       "is to move")
    R.setup(params, s)
    return s


def _fen_boards(placement: str) -> list[int]:
    """The 8 bitboards (6 piece kinds, white, black) of a FEN's piece placement, checked."""
    boards = [0] * 8
    ranks = placement.split("/")
    if len(ranks) != 8:
        raise FenError(f"FEN piece placement {placement!r} has {len(ranks)} ranks separated by '/', expected 8")
    for i, row in enumerate(ranks):
        rank = 7 - i
        file = 0
        for ch in row:
            if ch in "12345678":
                file += int(ch)
            elif ch.upper() in PIECE_LETTERS:
                if file < 8:
                    sq = rank * 8 + file
                    boards[PIECE_LETTERS.index(ch.upper())] |= 1 << sq
                    boards[R.WHITE_BB if ch.isupper() else R.BLACK_BB] |= 1 << sq
                file += 1
            else:
                raise FenError(f"FEN piece placement: {ch!r} in rank {rank + 1} ({row!r}) is not a piece letter "
                               "(PNBRQK white, pnbrqk black) or a digit 1-8")
        if file != 8:
            raise FenError(f"FEN piece placement: rank {rank + 1} ({row!r}) describes {file} squares, expected 8")
    for colour in range(2):
        own = boards[R.WHITE_BB + colour]
        name = COLOUR_NAMES[colour]
        kings = bin(boards[R.KING] & own).count("1")
        if kings != 1:
            raise FenError(f"FEN piece placement: {name} has {kings} kings, expected exactly 1")
        pawns = bin(boards[R.PAWN] & own).count("1")
        if pawns > 8:
            raise FenError(f"FEN piece placement: {name} has {pawns} pawns (at most 8)")
        if bin(own).count("1") > 16:
            raise FenError(f"FEN piece placement: {name} has {bin(own).count('1')} pieces (at most 16)")
    if boards[R.PAWN] & (0xFF | (0xFF << 56)):
        raise FenError("FEN piece placement: a pawn stands on the first or last rank")
    return boards


def _fen_castling(castling: str, boards: list[int]) -> int:
    """The castling-rights bits (K, Q, k, q) of a FEN's castling field, each right checked against the board."""
    rights = 0
    if castling == "-":
        return rights
    for ch in castling:
        if ch not in "KQkq":
            raise FenError(f"FEN castling field {castling!r}: {ch!r} is not one of K, Q, k, q (or '-' for none)")
        bit = 1 << "KQkq".index(ch)
        if rights & bit:
            raise FenError(f"FEN castling field {castling!r} repeats {ch!r}")
        rights |= bit
    for i, (king_sq, rook_sq, label) in enumerate(((4, 7, "K"), (4, 0, "Q"), (60, 63, "k"), (60, 56, "q"))):
        colour_bb = boards[R.WHITE_BB + i // 2]
        if rights & (1 << i) and not (boards[R.KING] & colour_bb & (1 << king_sq)
                                      and boards[R.ROOK] & colour_bb & (1 << rook_sq)):
            raise FenError(f"FEN castling field {castling!r}: right {label!r} needs the {COLOUR_NAMES[i // 2]} "
                           f"king on {square_name(king_sq)} and a rook on {square_name(rook_sq)}")
    return rights


def _fen_en_passant(ep: str, boards: list[int], us: int) -> int:
    """The en-passant square of a FEN (-1 for '-'), checked: an enemy pawn must just have stepped past it."""
    if ep == "-":
        return -1
    try:
        ep_sq = parse_square(ep)
    except ValueError:
        raise FenError(f"FEN en-passant field {ep!r} is not a square or '-'") from None
    want_rank = 5 if us == 0 else 2
    pawn_sq = ep_sq - 8 if us == 0 else ep_sq + 8
    behind = ep_sq + 8 if us == 0 else ep_sq - 8
    occ = boards[R.WHITE_BB] | boards[R.BLACK_BB]
    if ep_sq >> 3 != want_rank:
        raise FenError(f"FEN en-passant square {ep} must be on rank {want_rank + 1} when "
                       f"{COLOUR_NAMES[us]} is to move")
    if not (boards[R.PAWN] & boards[R.WHITE_BB + 1 - us] & (1 << pawn_sq)) or occ & ((1 << ep_sq) | (1 << behind)):
        raise FenError(f"FEN en-passant square {ep}: no {COLOUR_NAMES[1 - us]} pawn can just have moved two "
                       f"squares past it (a pawn on {square_name(pawn_sq)}, {ep} and {square_name(behind)} empty)")
    return ep_sq


def _fen_clocks(halfmove: str, fullmove: str) -> tuple[int, int]:
    """The halfmove clock and the fullmove number (at least 1) of a FEN, checked."""
    try:
        half = int(halfmove)
        if half < 0 or not halfmove.isdigit():
            raise ValueError
    except ValueError:
        raise FenError(f"FEN halfmove clock {halfmove!r} is not a non-negative integer") from None
    try:
        full = int(fullmove)
        if full < 0 or not fullmove.isdigit():
            raise ValueError
    except ValueError:
        raise FenError(f"FEN fullmove number {fullmove!r} is not a positive integer") from None
    if half > MAX_FEN_COUNTER or full > MAX_FEN_COUNTER:
        which, value = ("halfmove clock", halfmove) if half > MAX_FEN_COUNTER else ("fullmove number", fullmove)
        raise FenError(f"FEN {which} {value[:24]} is out of range (at most {MAX_FEN_COUNTER:,})")
    return half, max(full, 1)


def fen_of(params: np.ndarray, state: np.ndarray) -> str:
    """FEN of a state; the en-passant square only when a capture there is legal (as python-chess writes it)."""
    letters = board_letters(state)
    rows = []
    for rank in range(7, -1, -1):
        row, empty = "", 0
        for file in range(8):
            letter = letters[rank * 8 + file]
            if not letter:
                empty += 1
                continue
            if empty:
                row += str(empty)
                empty = 0
            row += letter
        rows.append(row + (str(empty) if empty else ""))
    rights = int(state[R.CASTLE])
    castling = "".join(c for i, c in enumerate("KQkq") if rights & (1 << i)) or "-"
    ep = square_name(int(state[R.EP])) if R.has_legal_ep(params, state) else "-"
    ply = int(state[R.PLY])
    return (f"{'/'.join(rows)} {'wb'[int(state[R.SIDE])]} {castling} {ep} {int(state[R.HALFMOVE])} "
            f"{ply // 2 + 1}")


# ------------------------------------------------------------------------------------------ moves
def legal_move_list(params: np.ndarray, state: np.ndarray) -> list[int]:
    """Internal legal moves (chess legality only: draws by rule do not remove them)."""
    buf = np.empty(256, dtype=np.int64)
    n = R.legal_moves(params, state, buf)
    return [int(m) for m in buf[:n]]


def _fields(m: int) -> tuple[int, int, int, int]:
    return m & 63, (m >> 6) & 63, (m >> 12) & 7, (m >> 15) & 7


def uci_of(move: int) -> str:
    fr, to, promo, _ = _fields(move)
    return square_name(fr) + square_name(to) + ("" if promo == 0 else "nbrq"[promo - 1])


def san_of(params: np.ndarray, state: np.ndarray, move: int, legal: list[int] | None = None) -> str:
    """SAN of a legal move, with ``+`` or ``#``."""
    fr, to, promo, piece = _fields(move)
    if move & R.FLAG_CASTLE:
        text = "O-O" if to > fr else "O-O-O"
    else:
        capture = bool(move & R.FLAG_EP) or piece_at(state, to) is not None
        if piece == R.PAWN:
            text = (FILES[fr & 7] + "x" if capture else "") + square_name(to)
            if promo:
                text += "=" + PIECE_LETTERS[promo]
        else:
            legal = legal_move_list(params, state) if legal is None else legal
            rivals = [m & 63 for m in legal if (m >> 15) & 7 == piece and (m >> 6) & 63 == to and m & 63 != fr]
            hint = ""
            if rivals:
                if all(r & 7 != fr & 7 for r in rivals):
                    hint = FILES[fr & 7]
                elif all(r >> 3 != fr >> 3 for r in rivals):
                    hint = str((fr >> 3) + 1)
                else:
                    hint = square_name(fr)
            text = PIECE_LETTERS[piece] + hint + ("x" if capture else "") + square_name(to)
    child = state.copy()
    R.apply_move(params, child, move)
    if R.in_check(params, child):
        text += "#" if R.count_legal(params, child) == 0 else "+"
    return text


UCI_RE = re.compile(r"^([a-h][1-8])[-x]?([a-h][1-8])([qrbnQRBN]?)$")
SAN_RE = re.compile(r"^(?:(?P<castle>[O0o]-?[O0o](?:-?[O0o])?)|(?P<piece>[NBRQK])?(?P<file>[a-h])?(?P<rank>[1-8])?"
                  r"(?P<capture>[x:])?(?P<to>[a-h][1-8])(?:=?(?P<promo>[NBRQnbrq]))?)"
                  r"(?:\s*e\.?p\.?)?(?P<check>[+#]{0,2})(?:[!?]{0,2})$")


def parse_uci_move(params: np.ndarray, state: np.ndarray, text: str) -> int | None:
    """The legal internal move written in UCI (``e2e4``, ``e7e8q``; ``e2-e4`` too), None when ``text`` is not
    UCI-shaped, ``IllegalMove`` when it is but the move is not legal."""
    m = UCI_RE.match(text)
    if not m:
        return None
    fr, to = parse_square(m.group(1)), parse_square(m.group(2))
    promo = "nbrq".index(m.group(3).lower()) + 1 if m.group(3) else 0
    for move in legal_move_list(params, state):
        f, t, p, _ = _fields(move)
        if f == fr and t == to and p == promo:
            return move
    raise IllegalMove(f"move {text} is illegal: {why_illegal(params, state, fr, to, promo)}")


def parse_san_move(params: np.ndarray, state: np.ndarray, text: str) -> int:
    m = SAN_RE.match(text)
    if not m:
        raise IllegalMove(f"{text!r} is not a chess move (write SAN such as Nf3, exd5, O-O, e8=Q, or UCI such as "
                          "g1f3, e7e8q)")
    legal = legal_move_list(params, state)
    us = int(state[R.SIDE])
    if m.group("castle"):
        long = len(m.group("castle").replace("-", "")) == 3
        name = "O-O-O" if long else "O-O"
        for move in legal:
            if move & R.FLAG_CASTLE and (((move >> 6) & 7) == 2) == long:
                return move
        king = 4 + 56 * us
        return _raise_illegal(params, state, name, king, king + (-2 if long else 2), 0)
    piece = PIECE_LETTERS.index(m.group("piece")) if m.group("piece") else R.PAWN
    to = parse_square(m.group("to"))
    ffile = FILES.index(m.group("file")) if m.group("file") else -1
    frank = int(m.group("rank")) - 1 if m.group("rank") else -1
    promo = PIECE_LETTERS.index(m.group("promo").upper()) if m.group("promo") else 0
    found = []
    for move in legal:
        f, t, p, pc = _fields(move)
        if pc == piece and t == to and (ffile < 0 or f & 7 == ffile) and (frank < 0 or f >> 3 == frank) \
                and not move & R.FLAG_CASTLE:
            if p == promo:
                found.append(move)
            elif p and not promo:
                raise IllegalMove(f"move {text}: the pawn reaches the last rank, so name the promotion piece "
                                  f"({text.rstrip('+#!?')}=Q, =R, =B or =N)")
    if len(found) == 1:
        return found[0]
    if len(found) > 1:
        options = ", ".join(san_of(params, state, mv, legal) for mv in found)
        raise IllegalMove(f"move {text} is ambiguous: it could be {options}")
    # why not: find the pieces of that kind that could reach the square ignoring checks
    own = [sq for sq in range(64) if piece_at(state, sq) == (us, piece)
           and (ffile < 0 or sq & 7 == ffile) and (frank < 0 or sq >> 3 == frank)]
    name = f"{COLOUR_NAMES[us]} {PIECE_NAMES[piece]}"
    if not own:
        raise IllegalMove(f"move {text} is illegal: there is no {name}"
                          + (" on the given file or rank" if ffile >= 0 or frank >= 0 else ""))
    for sq in own:
        if _pseudo_reaches(params, state, sq, to):
            return _raise_illegal(params, state, text, sq, to, promo)
    raise IllegalMove(f"move {text} is illegal: no {name} can move to {square_name(to)}")


def _raise_illegal(params, state, text, fr, to, promo):
    raise IllegalMove(f"move {text} is illegal: {why_illegal(params, state, fr, to, promo)}")


def _pseudo_reaches(params: np.ndarray, state: np.ndarray, fr: int, to: int) -> bool:
    """Can the piece on ``fr`` move to ``to`` by its movement rules, ignoring checks?"""
    pc = piece_at(state, fr)
    if pc is None:
        return False
    colour, piece = pc
    target = piece_at(state, to)
    if target is not None and target[0] == colour:
        return False
    occ = _bb(state[R.WHITE_BB]) | _bb(state[R.BLACK_BB])
    occ64 = np.int64(occ - (1 << 64) if occ >= 1 << 63 else occ)
    if piece == R.KNIGHT:
        att = _bb(params[T.KNIGHT + fr])
    elif piece == R.KING:
        att = _bb(params[T.KING + fr])
    elif piece == R.BISHOP:
        att = _bb(R.bishop_attacks(params, fr, occ64))
    elif piece == R.ROOK:
        att = _bb(R.rook_attacks(params, fr, occ64))
    elif piece == R.QUEEN:
        att = _bb(R.bishop_attacks(params, fr, occ64)) | _bb(R.rook_attacks(params, fr, occ64))
    else:
        step = 8 if colour == 0 else -8
        att = 0
        if target is None:
            if to == fr + step:
                att = 1 << to
            elif to == fr + 2 * step and fr >> 3 == (1 if colour == 0 else 6) and piece_at(state, fr + step) is None:
                att = 1 << to
        elif _bb(params[T.PAWN_ATT + colour * 64 + fr]) & (1 << to):
            att = 1 << to
        if to == int(state[R.EP]) and _bb(params[T.PAWN_ATT + colour * 64 + fr]) & (1 << to):
            att = 1 << to
    return bool(att & (1 << to))


def why_illegal(params: np.ndarray, state: np.ndarray, fr: int, to: int, promo: int) -> str:
    """Why moving ``fr`` -> ``to`` (promoting to ``promo``) is not a legal move here."""
    us = int(state[R.SIDE])
    side = COLOUR_NAMES[us]
    pc = piece_at(state, fr)
    if pc is None:
        return f"there is no piece on {square_name(fr)}"
    colour, piece = pc
    if colour != us:
        return f"the piece on {square_name(fr)} is {COLOUR_NAMES[colour]}'s and {side} is to move"
    name = f"the {PIECE_NAMES[piece]} on {square_name(fr)}"
    if fr == to:
        return "a move must change square"
    if piece == R.KING and fr == 4 + 56 * us and abs(to - fr) == 2:
        long = to < fr
        right = 1 << (2 * us + (1 if long else 0))
        wing = "queen" if long else "king"
        if not int(state[R.CASTLE]) & right:
            return f"{side} can no longer castle on the {wing} side"
        between = [fr - 1, fr - 2, fr - 3] if long else [fr + 1, fr + 2]
        if any(piece_at(state, sq) is not None for sq in between):
            return f"the squares between king and rook are not empty (castling {wing} side)"
        if R.in_check(params, state):
            return "the king is in check and cannot castle out of it"
        return "the king would pass through or land on an attacked square"
    target = piece_at(state, to)
    if target is not None and target[0] == us:
        return f"{square_name(to)} is occupied by {side}'s own {PIECE_NAMES[target[1]]}"
    last_rank = (to >> 3) == (7 if us == 0 else 0)
    if not _pseudo_reaches(params, state, fr, to):
        return f"{name} cannot move to {square_name(to)}"
    if piece == R.PAWN and last_rank and promo == 0:
        return f"a pawn reaching the last rank must promote (add q, r, b or n: {square_name(fr)}{square_name(to)}q)"
    if promo and not (piece == R.PAWN and last_rank):
        return "only a pawn reaching the last rank promotes"
    if R.in_check(params, state):
        return f"{side} is in check and the move does not end the check"
    return f"it would leave the {side} king in check"
