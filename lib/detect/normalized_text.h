// The text a model would read: a user-text string with its hiding tricks undone (invisible
// characters, terminal escape codes, percent-encoding, HTML character references, compatibility
// forms, hard-wrapped tokens), and a map from every span of that view back to the bytes sent, so
// a finding in the view is redacted, and later restored, in the original (issue 11, item 10).
//
// How a caller uses it (the redaction walk, lib/detect/json_body.cpp):
//
//   if (auto view = normalize_for_scan(text)) {           // nullopt: scan `text` itself
//     for (const Finding& f : engine.scan(view->text()))  // offsets into the view
//       OriginalSpan o = view->original_span(f.start, f.end);  // splice the placeholder here
//   }
//
// Redaction replaces original bytes [o.begin, o.end) and the placeholder map keeps those bytes,
// so the restored reply is byte for byte what was sent, escape codes and encodings included.
//
// What the view removes is not scanned through it: an OSC or DCS string (a window title, an
// OSC 8 hyperlink target) is dropped whole, and joining lines can glue a token to the start of
// the next line. Scanning the original as well and merging the findings by original span misses
// neither; with the view alone, those two cases are the known gaps.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace x420::detect {

// Bytes [begin, end) of the original text.
struct OriginalSpan {
  std::size_t begin = 0;
  std::size_t end = 0;
  friend bool operator==(const OriginalSpan&, const OriginalSpan&) = default;
};

// The normalised view of one string and its map to the original bytes. Plain value, copyable;
// it does not refer to the original (keep that yourself: the spans are offsets into it).
class NormalizedText {
 public:
  // One run of the view and the original bytes it came from. The run ends where the next
  // begins (the last at text().size()). `copied`: view byte k of the run is original byte
  // original_begin + k; otherwise every byte of the run stands for the whole original span
  // (a decoded "%41", an entity, an NFKC fold). Original bytes between two runs were removed.
  struct Piece {
    std::size_t text_begin = 0;
    std::size_t original_begin = 0;
    std::size_t original_end = 0;
    bool copied = false;
  };

  // The view, UTF-8 where the original was (invalid bytes pass through as they were).
  std::string_view text() const noexcept { return text_; }

  // The smallest span of the original that produced view bytes [begin, end): it starts at the
  // original sequence of byte `begin` and ends after that of byte end - 1, so whatever was
  // removed between them (a zero-width space, a colour code, a line break) is inside and what
  // was removed before or after is not. Arguments are clamped to the view; an empty span gives
  // an empty span at the original position of `begin`. Monotonic in both arguments.
  OriginalSpan original_span(std::size_t begin, std::size_t end) const noexcept;

  std::size_t original_size() const noexcept { return original_size_; }

  // Overwrites the view's bytes (it holds the decoded text of a secret), for callers that wipe.
  void wipe() noexcept;

  // The map itself, ordered by text_begin (for tests and for callers that walk it).
  const std::vector<Piece>& pieces() const noexcept { return pieces_; }

  NormalizedText(std::string text, std::vector<Piece> pieces, std::size_t original_size)
      : text_(std::move(text)), pieces_(std::move(pieces)), original_size_(original_size) {}

 private:
  std::size_t piece_at(std::size_t text_offset) const noexcept;

  std::string text_;
  std::vector<Piece> pieces_;
  std::size_t original_size_ = 0;
};

// The view of `utf8`, or nullopt when it would be the same bytes (scan `utf8` as it is). The
// common case is fast: printable ASCII without '%', '&', ESC or a line break is one vectorised
// pass, close to memchr's speed (bench/normalize_bench.cpp); each line break, '%' or '&' costs a
// look at its neighbours, and non-ASCII text a pass over its code points and ICU's NFKC check.
// Never throws for any input (ill-formed UTF-8 passes through unchanged); time and memory are
// linear in the input (the view is at most 11 times its size, NFKC's widest expansion). Safe to
// call from any number of threads at once.
//
// The steps, in this order, each reading the output of the one before:
//  1. Decoding, one layer (never again on its own output, so "%2541" is "%41"):
//     - percent-encoding "%XX" (either case) of an ASCII byte, or a run of them that spells one
//       well-formed UTF-8 sequence ("%E2%80%8B"); any other "%XX" stays as it is;
//     - HTML character references: "&#65;", "&#x41;" (the ';' may be missing, as browsers
//       allow), of a code point other than 0 or a surrogate; and, with their ';', a list of
//       named ones: amp lt gt quot apos nbsp shy zwj zwnj lrm rlm ZeroWidthSpace NoBreak and
//       the names of ASCII punctuation (plus sol equals lowbar colon …, see the .cpp).
//  2. Removing what a reader does not see:
//     - format characters (general category Cf: U+00AD, U+200B–200F, U+202A–202E,
//       U+2060–2064, U+2066–2069, U+FEFF, U+E0001, U+E0020–E007F, …) and every other
//       Default_Ignorable_Code_Point (variation selectors U+FE00–FE0F and U+E0100–E01EF,
//       U+034F combining grapheme joiner, Hangul fillers, …);
//     - terminal escape sequences (ECMA-48): CSI "ESC [" parameters, intermediates, final byte;
//       OSC "ESC ]" and the string sequences DCS/SOS/PM/APC ("ESC P", "ESC X", "ESC ^",
//       "ESC _") up to BEL (OSC only), "ESC \" or U+009C, at most 4096 bytes; nF sequences
//       such as "ESC ( B"; any other "ESC x" with x in 0x30–0x7E; the 8-bit CSI U+009B and OSC
//       U+009D. An ESC that starts none of these (or an unterminated one) is removed alone.
//  3. NFKC (ICU), so fullwidth "ＡＫＩＡ" and ligatures read as ASCII.
//  4. Joining hard-wrapped tokens. A line break ("\n", "\r\n" or "\r") is removed, with the
//     spaces and tabs around it and one backslash right before them, when all hold:
//     - the line ends (before that backslash and spaces) with a run of at least 16 token
//       characters [A-Za-z0-9+/=_-], and the line is at least 40 bytes long up to there, not
//       counting its indentation (short lines of tokens, such as one key per line, are lists);
//     - the next line, after its spaces and tabs, starts with a token character, and its first
//       run of them is followed by the end of the text, a line break, or a character other
//       than a space, a tab or ':' (so the next line is not prose, a YAML key or a command);
//     - that run is not an assignment "NAME=value" (an '=' after its first character followed
//       by a token character other than '='; base64 padding is not one), so .env files stay
//       lines.
std::optional<NormalizedText> normalize_for_scan(std::string_view utf8);

// The same steps without the check: always a view, the input's own bytes when nothing applies.
// For tests and the fuzz target, which hold normalize_for_scan's nullopt to it.
NormalizedText normalize_always(std::string_view utf8);

}  // namespace x420::detect
