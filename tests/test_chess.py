"""Chess rules: the perft tables, special moves, game ends, FEN, UCI/SAN with clear errors, the AlphaZero
action and plane encodings, and the perft command (``--position``, ``--epd``)."""

from __future__ import annotations

import csv
import json

import numpy as np
import pytest

import games
from engine.cli import UserError
from engine.perft import main as perft_command
from games import IllegalMove
from games.chess import FenError, from_fen, rules, tables, to_fen

from .conftest import shared_file
from .test_cli import run_cli

FAST_PERFT_NODES = 5_000_000  # rows above this run in the slow test


@pytest.fixture(scope="module")
def chess():
    return games.make("chess")


def perft_rows(*, slow: bool):
    rows = []
    for name in ("perft_standard.csv", "perft_tricky.csv"):
        try:
            path = shared_file("chess", name)
        except pytest.skip.Exception:
            return [pytest.param(None, marks=pytest.mark.skip(reason="../shared/data/chess is not present"))]
        for r in csv.DictReader(path.open()):
            if (int(r["nodes"]) > FAST_PERFT_NODES) == slow:
                rows.append(pytest.param(r, id=f"{r['name']}-d{r['depth']}"))
    return rows


@pytest.mark.parametrize("row", perft_rows(slow=False))
def test_perft_reference_counts(chess, row):
    state = chess.parse_position(row["fen"])
    assert chess.perft(state, int(row["depth"])) == int(row["nodes"])


@pytest.mark.slow
@pytest.mark.parametrize("row", perft_rows(slow=True))
def test_perft_reference_counts_deep(chess, row):
    state = chess.parse_position(row["fen"])
    assert chess.perft(state, int(row["depth"])) == int(row["nodes"])


def test_perft_ignores_draws_by_rule(chess):
    """Standard perft counts legal moves even where the game API has ended the game by the fifty-move rule."""
    s = chess.from_fen("4k3/8/8/8/8/8/8/R3K3 w Q - 100 80")
    assert chess.is_terminal(s) and chess.termination(s) == "fifty-move rule"
    assert chess.perft(s, 1) == 16 and not chess.legal_mask(s).any()


def test_stored_magics_are_the_searched_ones():
    np.testing.assert_array_equal(tables.build_params(search=True), tables.build_params())


# ------------------------------------------------------------------------------------------ special moves
def legal(chess, fen):
    return set(chess.legal_uci(chess.from_fen(fen)))


@pytest.mark.parametrize("fen, present, absent", [
    ("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1", {"e1g1", "e1c1"}, set()),
    ("5r2/1k6/8/8/8/8/8/R3K2R w KQ - 0 1", {"e1c1"}, {"e1g1"}),          # f1 attacked: no O-O
    ("4r3/1k6/8/8/8/8/8/R3K2R w KQ - 0 1", set(), {"e1c1", "e1g1"}),     # in check: no castling
    ("1r6/3k4/8/8/8/8/8/R3K2R w KQ - 0 1", {"e1c1", "e1g1"}, set()),     # b1 attacked does not matter
    ("r3k2r/8/8/8/8/8/8/RN2K1nR w KQkq - 0 1", set(), {"e1c1", "e1g1"}),  # pieces in between
    ("r3k2r/8/8/8/8/8/8/R3K2R w - - 0 1", set(), {"e1c1", "e1g1"}),     # no rights
])
def test_castling(chess, fen, present, absent):
    moves = legal(chess, fen)
    assert present <= moves and not (absent & moves)


def test_castling_moves_the_rook_and_rights_are_lost(chess):
    s = chess.play_moves("O-O", chess.from_fen("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"))
    assert chess.to_fen(s) == "r3k2r/8/8/8/8/8/8/R4RK1 b kq - 1 1"
    s = chess.play_moves("Rxa8+", chess.from_fen("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"))
    assert chess.to_fen(s).split()[2] == "Kk"  # the a1 rook left, the a8 rook was taken
    s = chess.play_moves("Rh2", chess.from_fen("r3k2r/8/8/8/8/8/8/R3K2R w KQkq - 0 1"))
    assert chess.to_fen(s).split()[2] == "Qkq"


def test_en_passant(chess):
    s = chess.play_moves("e4 Nf6 e5 d5")
    assert to_fen(s) == "rnbqkb1r/ppp1pppp/5n2/3pP3/8/8/PPPP1PPP/RNBQKBNR w KQkq d6 0 3"
    assert "e5d6" in chess.legal_uci(s)
    s = chess.play_moves("exd6", s)
    assert to_fen(s).startswith("rnbqkb1r/ppp1pppp/3P1n2/8/8/8/PPPP1PPP/RNBQKBNR b")
    # no pawn can take: the en-passant square is not part of the position
    assert chess.to_fen(chess.play_moves("e4")).split()[3] == "-"


def test_en_passant_rank_pin(chess):
    """Both pawns leave the rank at once: the capture would expose the king to the rook."""
    s = chess.from_fen("8/8/8/K2pP2r/8/8/8/7k w - d6 0 1")
    assert "e5d6" not in chess.legal_uci(s)
    assert chess.to_fen(s).split()[3] == "-"
    with pytest.raises(IllegalMove, match="leave the white king in check"):
        chess.parse_move(s, "exd6")


def test_promotion_to_every_piece(chess):
    s = chess.from_fen("1n5k/P7/8/8/8/8/8/K7 w - - 0 1")
    assert {m for m in chess.legal_uci(s) if m.startswith("a7")} == {
        "a7a8q", "a7a8r", "a7a8b", "a7a8n", "a7b8q", "a7b8r", "a7b8b", "a7b8n"}
    for text, fen_rank in (("a8=Q+", "Q"), ("a8=N", "N"), ("axb8=R+", "1R"), ("a7b8b", "1B")):
        child = chess.apply(s, chess.parse_move(s, text))
        assert chess.to_fen(child).startswith(fen_rank)
    with pytest.raises(IllegalMove, match="name the promotion piece"):
        chess.parse_move(s, "a8")
    with pytest.raises(IllegalMove, match="must promote"):
        chess.parse_move(s, "a7a8")


# ------------------------------------------------------------------------------------------ game ends
@pytest.mark.parametrize("fen, result, reason", [
    ("rnb1kbnr/pppp1ppp/8/4p3/6Pq/5P2/PPPPP2P/RNBQKBNR w KQkq - 1 3", -1, "checkmate"),
    ("7k/5Q2/6K1/8/8/8/8/8 b - - 0 1", 0, "stalemate"),
    ("8/8/8/4k3/8/8/8/4K3 w - - 0 1", 0, "insufficient material"),
    ("8/8/8/4k3/8/8/8/3NK3 b - - 0 1", 0, "insufficient material"),
    ("8/8/8/4k3/8/8/8/3BK3 b - - 0 1", 0, "insufficient material"),
    ("8/8/4b3/4k3/8/8/8/3BK3 b - - 0 1", 0, "insufficient material"),   # bishops on one colour
    ("4k3/8/8/8/8/8/8/R3K3 w - - 100 80", 0, "fifty-move rule"),
])
def test_game_ends(chess, fen, result, reason):
    s = chess.from_fen(fen)
    assert chess.is_terminal(s) and chess.result(s) == result and chess.termination(s) == reason
    assert not chess.legal_mask(s).any()
    with pytest.raises(IllegalMove, match="over"):
        chess.parse_move(s, "Kd1")


@pytest.mark.parametrize("fen", [
    "8/8/5b2/4k3/8/8/8/3BK3 b - - 0 1",   # bishops on both colours: a mate is possible
    "8/8/8/4k3/8/8/8/2NNK3 b - - 0 1",     # two knights
    "8/8/8/4k3/8/8/8/3RK3 b - - 0 1",
    "8/8/8/4k3/8/8/7p/4K3 w - - 0 1",
    "4k3/8/8/8/8/8/8/R3K3 w - - 99 80",
])
def test_not_over(chess, fen):
    assert not chess.is_terminal(chess.from_fen(fen))


def test_fool_mate_and_mate_beats_the_fifty_move_rule(chess):
    s = chess.play_moves("f3 e5 g4 Qh4#")
    assert chess.result(s) == -1 and chess.describe_result(s) == "black wins by checkmate"
    s = chess.from_fen("7k/R7/6K1/8/8/8/8/8 w - - 99 80")
    s = chess.play_moves("Ra8#", s)
    assert s[rules.HALFMOVE] == 100 and chess.result(s) == 1 and chess.termination(s) == "checkmate"


def test_threefold_repetition(chess):
    shuffle = "Nf3 Nf6 Ng1 Ng8 Nf3 Nf6 Ng1".split()
    s = chess.play_moves(shuffle)
    assert not chess.is_terminal(s)
    s = chess.play_moves("Ng8", s)  # the start position a third time
    assert chess.is_terminal(s) and chess.describe_result(s) == "draw by threefold repetition"


def test_repetition_needs_equal_castling_rights(chess):
    moves = "e4 e5 Ke2 Ke7 Ke1 Ke8 Ke2 Ke7 Ke1 Ke8".split()
    s = chess.play_moves(moves)
    # the board after ply 10 equals the one after 1...e5 (and ply 6), but castling rights were lost: 2 times
    assert not chess.is_terminal(s) and rules.repetitions(s) == 1
    s = chess.play_moves("Ke2 Ke7", s)
    assert chess.termination(s) == "threefold repetition"


def test_hash_identifies_positions(chess):
    a, b = chess.play_moves("Nf3 Nf6 Nc3"), chess.play_moves("Nc3 Nf6 Nf3")
    assert chess.state_hash(a) == chess.state_hash(b) and chess.to_fen(a) == chess.to_fen(b)
    # the same board with other castling rights, side to move or a usable en-passant square is another position
    kings = chess.play_moves("e4 e5 Ke2 Ke7 Ke1 Ke8")
    assert chess.to_fen(kings).split()[0] == chess.to_fen(chess.play_moves("e4 e5")).split()[0]
    assert chess.state_hash(kings) != chess.state_hash(chess.play_moves("e4 e5"))
    assert chess.state_hash(chess.play_moves("Nf3")) != chess.state_hash(chess.initial_state())
    ep = chess.play_moves("e4 Nf6 e5 d5")
    no_ep = chess.play_moves("e4 d5 e5 Nf6 Nc3 Ng8 Nb1 Nf6")
    assert chess.to_fen(ep).split()[:3] == chess.to_fen(no_ep).split()[:3]
    assert chess.state_hash(ep) != chess.state_hash(no_ep)


# ------------------------------------------------------------------------------------------ FEN
START = "rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1"


def test_fen_round_trip_and_startpos(chess):
    for fen in (START, "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1",
                "rnbq1k1r/pp1Pbppp/2p5/8/2B5/8/PPP1NnPP/RNBQK2R w KQ - 1 8", "8/8/1k6/2b5/2pP4/8/5K2/8 b - d3 0 1"):
        assert to_fen(from_fen(fen)) == fen
    np.testing.assert_array_equal(chess.from_fen(START), chess.initial_state())
    s = chess.parse_position("startpos moves e2e4 c7c5 Nf3")
    assert chess.to_fen(s) == "rnbqkbnr/pp1ppppp/8/2p5/4P3/5N2/PPPP1PPP/RNBQKB1R b KQkq - 1 2"
    np.testing.assert_array_equal(chess.parse_position("e4 c5 Nf3"), s)
    assert chess.to_fen(chess.parse_position(f"fen {START} moves d4")).startswith("rnbqkbnr/pppppppp/8/8/3P4")


@pytest.mark.parametrize("fen, message", [
    ("", "has 0 fields"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP w KQkq - 0 1", "7 ranks"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNRR w KQkq - 0 1", "rank 1 .* describes 9 squares"),
    ("rnbqkbnr/pppxpppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 1", "'x' in rank 7 .* is not a piece letter"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR x KQkq - 0 1", "side to move must be 'w' or 'b'"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkz - 0 1", "castling field 'KQkz': 'z'"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBN1 w KQkq - 0 1", "right 'K' needs the white king on e1 and a rook"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq e9 0 1", "en-passant field 'e9' is not a square"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq e3 0 1", "must be on rank 6"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq e6 0 1", "no black pawn can just have moved"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - -1 1", "halfmove clock '-1'"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkq - 0 x", "fullmove number 'x'"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBKKBNR w kq - 0 1", "white has 2 kings"),
    ("4k3/8/8/8/8/8/8/8 w - - 0 1", "white has 0 kings"),
    ("P3k3/8/8/8/8/8/8/4K3 w - - 0 1", "pawn stands on the first or last rank"),
    ("4k3/8/8/8/8/8/8/4K2R b - - 0 1", None),                              # legal: black to move, not in check
    ("4k2R/8/8/8/8/8/8/4K3 w - - 0 1", "black is in check but white is to move"),
])
def test_bad_fen_names_the_field(chess, fen, message):
    if message is None:
        chess.from_fen(fen)
        return
    with pytest.raises(FenError, match=message):
        chess.from_fen(fen)
    if fen:  # an empty position text is the start position
        with pytest.raises(IllegalMove):  # commands report it like a bad move: one line, exit status 2
            chess.parse_position(fen)


# ------------------------------------------------------------------------------------------ moves and notation
@pytest.mark.parametrize("fen, text, message", [
    (START, "e2e5", "the pawn on e2 cannot move to e5"),
    (START, "e7e5", "the piece on e7 is black's and white is to move"),
    (START, "e3e4", "there is no piece on e3"),
    (START, "Nf6", "no white knight can move to f6"),
    (START, "Qh5", "no white queen can move to h5"),
    (START, "O-O", "squares between king and rook are not empty"),
    (START, "e1g1", "squares between king and rook are not empty"),
    (START, "a1a2", "a2 is occupied by white's own pawn"),
    (START, "xyz", "not a chess move"),
    (START, "0000", "null move"),
    ("4k3/4r3/8/8/8/8/4N3/4K3 w - - 0 1", "Nc3", "would leave the white king in check"),
    ("4k3/8/8/8/8/8/3P4/r3K3 w - - 0 1", "d3", "white is in check and the move does not end the check"),
    ("4k3/8/8/8/8/5N2/8/1N2K3 w - - 0 1", "Nd2", "ambiguous: it could be Nbd2, Nfd2"),
    ("r3k3/8/8/8/8/8/8/4K2R w K - 0 1", "O-O-O", "can no longer castle on the queen side"),
])
def test_illegal_moves_say_why(chess, fen, text, message):
    with pytest.raises(IllegalMove, match=message):
        chess.parse_move(chess.from_fen(fen), text)


def test_illegal_action_says_why(chess):
    s = chess.initial_state()
    e2e5 = 2 * 64 + (6 * 8 + 4)  # N, distance 3, from e2
    with pytest.raises(IllegalMove, match="move e2e5 is illegal: the pawn on e2 cannot move to e5"):
        chess.apply(s, e2e5)


@pytest.mark.parametrize("fen, uci, san", [
    ("4k3/8/8/8/8/5N2/8/1N2K3 w - - 0 1", "b1d2", "Nbd2"),
    ("4k3/8/8/R7/8/8/8/R3K3 w - - 0 1", "a1a3", "R1a3"),
    ("4k3/8/8/8/8/Q7/8/Q1Q1K3 w - - 0 1", "a1b2", "Qa1b2"),
    ("4k3/8/8/8/8/8/8/R3K2R w KQ - 0 1", "e1c1", "O-O-O"),
    ("4k3/8/8/8/8/8/8/R3K2R w KQ - 0 1", "a1a8", "Ra8+"),
    ("rnbqkbnr/ppp1p1pp/8/3pPp2/8/8/PPPP1PPP/RNBQKBNR w KQkq f6 0 3", "e5f6", "exf6"),
    ("7k/P7/8/8/8/8/8/K7 w - - 0 1", "a7a8q", "a8=Q+"),
    ("7k/R7/6K1/8/8/8/8/8 w - - 0 1", "a7a8", "Ra8#"),
])
def test_san(chess, fen, uci, san):
    s = chess.from_fen(fen)
    a = chess.parse_move(s, uci)
    assert chess.format_move(s, a) == san and chess.format_uci(s, a) == uci
    assert chess.parse_move(s, san) == a and chess.parse_san(s, san) == a and chess.parse_uci(s, uci) == a
    loose = san.replace("O", "0").rstrip("+#") + "!?"  # castling with zeros, no check sign, a glyph
    assert chess.parse_move(s, loose) == a


def test_render_has_coordinates(chess):
    text = chess.render(chess.play_moves("e4 e5 Qh5 Nc6 Bc4 Nf6 Qxf7#"))
    assert text.splitlines()[0] == "8 r . b q k b . r"
    assert "  a b c d e f g h" in text and "white wins by checkmate" in text


# ------------------------------------------------------------------------------------------ encoding
def test_action_encoding_known_values(chess):
    s = chess.initial_state()
    assert chess.parse_move(s, "e4") == 1 * 64 + 52          # plane N distance 2, cell e2 = row 6, column 4
    assert chess.parse_move(s, "Nf3") == 63 * 64 + 62        # knight (+2 ranks, -1 file), cell g1
    black = chess.play_moves("Nf3")
    assert chess.parse_move(black, "e5") == 1 * 64 + 52      # black's move seen from black's side
    assert chess.parse_move(black, "Nf6") == 63 * 64 + 62
    p = chess.from_fen("1n5k/P7/8/8/8/8/8/K7 w - - 0 1")
    assert chess.parse_move(p, "a8=N") == (64 + 0 * 3 + 1) * 64 + 8
    assert chess.parse_move(p, "axb8=R+") == (64 + 2 * 3 + 2) * 64 + 8
    assert chess.parse_move(p, "a8=Q+") == 0 * 64 + 8       # queen promotion: the plain step


def test_every_action_decodes_and_encodes_back(chess):
    """Each of the 4,672 actions that stays on the board names one (from, to, promotion) that maps back."""
    on_board = 0
    for side in (0, 1):
        s = chess.initial_state().copy()
        s[rules.SIDE] = side
        for action in range(chess.num_actions):
            sq = chess._action_squares(s, action)
            if sq is None:
                continue
            on_board += 1
            fr, to, promo = sq
            assert rules.move_to_action(side, fr | (to << 6) | (promo << 12)) == action
    assert on_board == 2 * (1456 + 336 + 3 * (56 + 49 + 49))  # queen-like, knight and underpromotion steps


def test_planes(chess):
    assert chess.plane_shape == (119, 8, 8)
    s = chess.initial_state()
    x = chess.encode(s)
    np.testing.assert_array_equal(x[0, 6], np.ones(8))     # our pawns on the second row from the bottom
    np.testing.assert_array_equal(x[6, 1], np.ones(8))     # their pawns
    assert x[5, 7, 4] == 1 and x[11, 0, 4] == 1             # kings on e1 / e8
    assert x[14:112].sum() == 0                              # no history yet
    assert (x[112] == 1).all() and (x[114:118] == 1).all() and x[118].sum() == 0
    s = chess.play_moves("e4")
    x = chess.encode(s)                                      # black to move: black's view
    np.testing.assert_array_equal(x[0, 6], np.ones(8))     # black pawns, seen from black
    assert x[6, 3, 4] == 1 and x[6, 1].sum() == 7            # white's e-pawn on e4: row 3 from black's side
    np.testing.assert_array_equal(x[14 + 0, 6], np.ones(8))  # previous position, same orientation
    assert x[112].sum() == 0 and np.allclose(x[113], 1 / 512)
    s = chess.play_moves("Nf3 Nf6 Ng1 Ng8")
    x = chess.encode(s)
    assert (x[12] == 1).all() and x[13].sum() == 0           # the start position once more: repeated once
    assert x[4 * 14 + 12].sum() == 0                         # ... but its first occurrence was not
    small = games.make("chess", history=1)
    assert small.plane_shape == (21, 8, 8)
    np.testing.assert_array_equal(small.encode(s)[:14], x[:14])
    np.testing.assert_array_equal(small.encode(s)[14:], x[112:])


def test_history_option_is_checked():
    with pytest.raises(ValueError, match="history must be an integer from 1 to 8"):
        games.make("chess", history=9)


# ------------------------------------------------------------------------------------------ the perft command
KIWIPETE = "r3k2r/p1ppqpb1/bn2pnp1/3PN3/1p2P3/2N2Q1p/PPPBBPPP/R3K2R w KQkq - 0 1"


def perft_main(capsys, *args: str) -> tuple[int | None, dict]:
    """``python -m engine.perft`` in this process (no interpreter start-up): return code and JSON result."""
    code = perft_command(["chess", *args, "--json"])
    return code, json.loads(capsys.readouterr().out.strip().splitlines()[-1])


def test_perft_command_position_and_divide(capsys):
    assert perft_main(capsys, "--position", KIWIPETE, "--depth", "3")[1]["nodes"] == 97_862
    _, out = perft_main(capsys, "--position", "startpos moves e2e4", "--depth", "2", "--divide")
    assert out["nodes"] == 600 and out["divide"]["e7e5"] == 29 and len(out["divide"]) == 20


def test_perft_command_epd(tmp_path, capsys):
    suite = tmp_path / "suite.epd"
    suite.write_text(f"# a comment\n{START} ;D1 20 ;D2 400 ;D3 8902\n\n{KIWIPETE} ;D1 48 ;D2 2039 ;D3 97862\n"
                     "8/2p5/3p4/KP5r/1R3p1k/8/4P1P1/8 w - - ;D1 14 ;D2 191 ;D3 2812 ;D4 43238 ;D5 674624\n")
    code, out = perft_main(capsys, "--epd", str(suite), "--max-depth", "4")
    assert code == 0 and out["checks"] == 10 and out["mismatches"] == [] and out["positions"] == 3
    bad = tmp_path / "bad.epd"
    bad.write_text(f"{START} ;D1 20 ;D2 401 ;D3 8902\n{KIWIPETE} ;D1 47\n")
    proc = run_cli("engine.perft", "chess", "--epd", str(bad), check=False)  # the real command: exit status 1
    assert proc.returncode == 1
    assert "line 1: depth 2: expected 401, got 400" in proc.stdout
    assert "line 2: depth 1: expected 47, got 48" in proc.stdout


@pytest.mark.parametrize("content, message", [
    (f"{START} ;D1 twenty\n", "'D1 twenty' is not a perft count"),
    (f"{START}\n", "expected 'POSITION ;D1"),
    ("rnbqkbnr/pppppppp/8/8/8/8/PPPPPPPP/RNBQKBNR w KQkz - 0 1 ;D1 20\n", ":1: FEN castling field"),
    (None, "does not exist"),
])
def test_perft_command_bad_epd(tmp_path, content, message):
    path = tmp_path / "x.epd"
    if content is not None:
        path.write_text(content)
    with pytest.raises(UserError, match=message):
        perft_command(["chess", "--epd", str(path)])


def test_perft_command_bad_fen():
    proc = run_cli("engine.perft", "chess", "--position", "8/8/8 w - - 0 1", "--depth", "1", check=False)
    assert proc.returncode == 2 and "3 ranks" in proc.stderr and "Traceback" not in proc.stderr
