// proxy/sse_decoder: events as the HTML standard reads an event stream, whatever the line ends
// and wherever the reads are cut, each with its bytes as received.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "proxy/sse_decoder.h"

using namespace x420::proxy;

namespace {

struct Seen {
  std::string raw, name, data, comments;
  bool has_data, oversized;
};

std::vector<Seen> decode(std::string_view stream, std::size_t piece, std::size_t limit = SseDecoder::kDefaultMaxEventBytes) {
  SseDecoder decoder(limit);
  std::vector<Seen> seen;
  const SseDecoder::Sink sink = [&](const SseEvent& e) {
    seen.push_back({std::string(e.raw), e.name, e.data, e.comments, e.has_data, e.oversized});
  };
  for (std::size_t i = 0; i < stream.size(); i += piece) decoder.feed(stream.substr(i, piece), sink);
  decoder.finish(sink);
  return seen;
}

std::string with_line_ends(std::string_view lf, std::string_view end) {
  std::string out;
  for (char c : lf) out += c == '\n' ? std::string(end) : std::string(1, c);
  return out;
}

}  // namespace

TEST_CASE("sse decoder splits events at LF, CRLF and CR line ends, cut at every byte", "[proxy][sse]") {
  const std::string lf = ": ping\n\nevent: delta\ndata: {\"a\":1}\n\ndata: one\ndata:two\nid: 7\nretry: 10\n\ndata: [DONE]\n\n";
  for (std::string_view end : {"\n", "\r\n", "\r"}) {
    const std::string stream = with_line_ends(lf, end);
    for (std::size_t piece = 1; piece <= stream.size(); ++piece) {
      INFO("line end " << (end == "\n" ? "LF" : end == "\r" ? "CR" : "CRLF") << ", pieces of " << piece);
      auto all = decode(stream, piece);
      std::vector<Seen> seen;  // a CRLF cut in two leaves its LF as a byte of its own at the end
      for (const auto& s : all)
        if (s.has_data || !s.comments.empty()) seen.push_back(s);
      REQUIRE(seen.size() == 4);
      CHECK_FALSE(seen[0].has_data);
      CHECK(seen[0].comments == ": ping\n");
      CHECK(seen[1].name == "delta");
      CHECK(seen[1].data == "{\"a\":1}");
      CHECK(seen[2].data == "one\ntwo");  // data lines join with LF; "data:" without a space too
      CHECK(seen[3].data == "[DONE]");
      std::string joined;
      for (const auto& s : all) joined += s.raw;
      // The bytes pass on as they came (a CRLF cut between its CR and LF loses nothing either).
      CHECK(joined == stream);
    }
  }
}

TEST_CASE("sse decoder hands on an unfinished last event at the end", "[proxy][sse]") {
  const auto seen = decode("data: {\"a\":1}\n\ndata: partial", 5);
  REQUIRE(seen.size() == 2);
  CHECK(seen[1].data == "partial");
  CHECK(seen[1].raw == "data: partial");
}

TEST_CASE("sse decoder passes an event over its limit on in pieces, then decodes again", "[proxy][sse]") {
  // The limit is checked after each read, so an event over it that one read completes is
  // still whole (a read is bounded); one that grows over several reads goes on in pieces.
  const std::string huge = "data: " + std::string(5000, 'x') + "\n\n";
  const std::string stream = huge + "data: after\n\n";
  for (std::size_t piece : {1, 100, 100000}) {
    const auto seen = decode(stream, piece, 1024);
    std::string joined;
    for (const auto& s : seen) joined += s.raw;
    CHECK(joined == stream);
    REQUIRE(seen.size() >= 2);
    CHECK(seen.front().oversized == (piece < 1024));
    CHECK(seen.back().data == "after");
    CHECK_FALSE(seen.back().oversized);
  }
}
