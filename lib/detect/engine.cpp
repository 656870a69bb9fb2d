#define PCRE2_CODE_UNIT_WIDTH 8
#include "lib/detect/engine.h"

#include <hs/hs.h>
#include <pcre2.h>

#include <algorithm>
#include <climits>
#include <functional>
#include <optional>
#include <cstring>
#include <unordered_map>
#include <unordered_set>

#include "lib/crypto/keyed_hash.h"
#include "lib/detect/context_rule.h"
#include "lib/detect/placeholder.h"
#include "lib/detect/prefilter_pattern.h"
#include "lib/detect/shape_scanner.h"
#include "lib/detect/validators.h"

namespace x420::detect {
namespace {

constexpr std::uint32_t kMaxSpanCap = kMaxMatchWindow;
constexpr std::uint32_t kMinKnownSecretLength = 6;
// Bounds PCRE2's work per match attempt, so no input can make a rule backtrack for long.
constexpr std::uint32_t kMatchLimit = 200'000;
constexpr std::string_view kInlineAllow = "x420:allow";
constexpr std::size_t kInlineAllowReach = 4096;  // how far along a line to look for the marker

// PCRE2 10.42's JIT reads past the end of the subject (valgrind: a conditional jump on those
// bytes, inside JIT code). While this engine was rebuilt, one example at the very end of its
// buffer was missed in most full unit-suite runs and found when run alone; compiling without
// the start-of-match optimisations, or searching a copy followed by zeros, made it found every
// time. It did not come back in isolation, so the cause is not proven; the copy is cheap (only
// a window within 64 bytes of the buffer's end, with 256 bytes before it for look-behinds) and
// makes what lies past the end always the same.
constexpr std::size_t kJitReadAhead = 64;
constexpr std::size_t kLookBehind = 256;

// The gates are used when at least this many context rules can go behind them (the built-in
// set has 253).
constexpr std::size_t kMinGatedRules = 32;

// A pattern no text matches (see its use in Engine::build).
constexpr const char* kNeverMatches = "\\xff\\x00\\xfe\\x01\\xfd\\x02\\xfc\\x03";

// A rule's literal prefix this long replaces keywords that lie elsewhere in its match.
constexpr std::size_t kMinPrefixKeyword = 6;

// Keywords too common in ordinary text and code to start a rule: a rule holding one is
// prefiltered by its regex instead (as a rule without keywords is), which vectorscan confirms
// itself without a callback, unless its matches begin just before their keywords (a known
// lead, Engine::build), which makes each hit one short PCRE2 search. Treating keywords of three
// bytes as common too ("sk_" occurs 77,770 times in 24 MB of system headers, each hit a PCRE2
// search) made clean text 9 % faster but the proxy's 20 KB prompt 16 % slower (detect_bench,
// same run, before the leads), so they stay keywords.
bool common_keyword(std::string_view k) {
  static constexpr std::string_view kCommon[] = {
      "key",    "keys",   "token",  "secret", "pass",   "password", "passwd", "pwd",    "auth",
      "api",    "bearer", "basic",  "private", "private key", "credential", "credentials",
      "session", "access", "login", "user",   "client", "id",      "sk",     "pk",     "app"};
  return k.size() < 3 || std::find(std::begin(kCommon), std::end(kCommon), k) != std::end(kCommon);
}

struct PcreCodeDeleter {
  void operator()(pcre2_code* c) const { pcre2_code_free(c); }
};
using PcreCode = std::unique_ptr<pcre2_code, PcreCodeDeleter>;

struct CompiledRule {
  Rule rule;
  PcreCode code;              // null for known secrets (exact literals)
  std::uint32_t max_width = 0;
  std::uint32_t min_width = 0;
  int specificity = 0;        // higher wins an overlap
  bool generic = false;       // entropy-gated: stopwords apply
  bool by_keyword = false;    // started by its keywords' hits, not by its own regex
  // The most bytes a match holds before the start of the first keyword in it: a keyword's hit
  // is tried only for matches starting that far before it. A context rule's match begins with its
  // name, so this is short; for other rules only the width bounds it.
  std::uint32_t keyword_lead = UINT32_MAX;
  std::size_t known_length = 0;
};

std::string pcre_error(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

Result<PcreCode> compile_pcre(const std::string& pattern, std::string_view what, std::uint32_t options = 0) {
  int error = 0;
  PCRE2_SIZE offset = 0;
  pcre2_code* code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                   options, &error, &offset, nullptr);
  if (!code)
    return make_error(ErrorKind::usage, std::string(what) + ": regex does not compile at offset " +
                                            std::to_string(offset) + ": " + pcre_error(error));
  pcre2_jit_compile(code, PCRE2_JIT_COMPLETE);  // falls back to the interpreter if JIT is unavailable
  return PcreCode(code);
}

std::string escape_literal(std::string_view value) {
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : value) {
    out += "\\x";
    out += hex[c >> 4];
    out += hex[c & 15];
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// The keywords the prefilter needs for a rule: a keyword holding another of the rule's keywords
// starts nothing the shorter one would not ("bundle_enterprise_contribsys" holds "contribsys"),
// and every literal the prefilter carries costs it speed. Lowercased, shortest first.
std::vector<std::string> minimal_keywords(const std::vector<std::string>& keywords) {
  std::vector<std::string> sorted;
  for (const auto& k : keywords) sorted.push_back(lower(k));
  std::sort(sorted.begin(), sorted.end(), [](const std::string& a, const std::string& b) {
    return a.size() != b.size() ? a.size() < b.size() : a < b;
  });
  std::vector<std::string> kept;
  for (auto& k : sorted)
    if (std::none_of(kept.begin(), kept.end(), [&](const std::string& shorter) { return k.find(shorter) != std::string::npos; }))
      kept.push_back(std::move(k));
  return kept;
}

int specificity_of(const Rule& r, bool known) {
  if (known) return 4;
  // Personal data and identifiers rank with the generic secret rules, below every specific one:
  // the password of postgres://user:pw@db.example.com is a secret, not the e-mail address it
  // looks like, while a Mapbox public token stays an identifier though its name says token.
  if (r.data_class != DataClass::secret) return 1;
  if (r.validator != Validator::none) return 3;
  if (r.entropy_min > 0) return 1;
  return 2;
}

bool contains(const std::vector<std::string>& words, const std::string& w) {
  return std::find(words.begin(), words.end(), w) != words.end();
}

// A context rule's keywords with each spelling of a word of several parts replaced by the part
// that anchors it (context_anchor): one literal instead of up to 25 ('social_security_number'
// has 25 spellings), found wherever the word is, since the rule's lead spans the whole word.
std::vector<std::string> anchored_keywords(const Rule& r, const std::vector<std::string>& keywords) {
  if (r.context.empty()) return keywords;
  std::unordered_map<std::string, std::string> anchor_of;  // spelling -> anchor
  for (const auto* words : {&r.context, &r.context_names})
    for (const auto& word : *words)
      if (std::string anchor = context_anchor(word); !anchor.empty())
        for (auto& spelling : context_keywords({word})) anchor_of.emplace(std::move(spelling), anchor);
  std::vector<std::string> out;
  for (const auto& k : keywords) {
    const auto it = anchor_of.find(lower(k));
    out.push_back(it == anchor_of.end() ? k : it->second);
  }
  return out;
}

// Whether the context gates (context_gate_regexes) find each of a context rule's examples
// within its match: its vendor words are then looked for only before the gates' hits. Personal
// data's values (short numbers with spaces) are not the token-like values the gates expect.
bool gate_finds_examples(const Rule& r, const pcre2_code* rule_code, const pcre2_code* gates) {
  if (r.context.empty() || r.data_class == DataClass::personal) return false;
  pcre2_match_data* md = pcre2_match_data_create(16, nullptr);
  bool all = true;
  for (const auto& example : r.examples) {
    const auto subject = reinterpret_cast<PCRE2_SPTR>(example.data());
    if (pcre2_match(rule_code, subject, example.size(), 0, 0, md, nullptr) < 0) {
      all = false;
      break;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    const PCRE2_SIZE ms = ov[0], me = ov[1];
    if (pcre2_match(gates, subject + ms, me - ms, 0, 0, md, nullptr) < 0) {
      all = false;
      break;
    }
  }
  pcre2_match_data_free(md);
  return all;
}

}  // namespace

// A pattern of the prefilter database and the rules a hit of it starts: the rules holding a
// keyword (the pattern is the keyword), or one rule prefiltered by its own regex, or one known
// secret (the pattern is its value), or none: a context gate, whose hits start a search of the
// vendor words just before them.
struct PrefilterPattern {
  std::vector<std::uint32_t> rules;
  std::uint32_t keyword_length = 0;  // a keyword's; 0 for a regex or a known secret
  bool gate = false;
  bool marker = false;  // "x420:allow": the input holds the inline marker
};

// The rules a dedicated scanner's runs start.
struct ShapeRules {
  Shape shape;
  std::vector<std::uint32_t> rules;
};

struct Engine::Impl {
  std::vector<CompiledRule> rules;
  std::vector<PrefilterPattern> patterns;  // by vectorscan id
  std::vector<ShapeRules> shapes;
  std::vector<Shape> shape_kinds;  // the shapes of `shapes`, for find_shape_runs
  hs_database_t* db = nullptr;
  // The vendor words of the gated context rules, searched only before a context gate's hits.
  std::vector<PrefilterPattern> vendor_patterns;  // by vectorscan id in vendor_db
  hs_database_t* vendor_db = nullptr;
  std::uint64_t gate_reach = 0;  // how far before a gate hit's end a vendor word may begin
  std::uint64_t longest_vendor_word = 0;
  std::vector<PcreCode> allow_regexes;
  std::unordered_set<std::string> allow_values;
  std::unordered_set<std::string> allow_fingerprints;
  std::vector<std::string> stopwords;  // lowercased
  crypto::SecretBytes fingerprint_key;
  std::size_t max_span = 0;
  bool inline_allow = true;
  bool report_placeholders = false;

  ~Impl() {
    if (db) hs_free_database(db);
    if (vendor_db) hs_free_database(vendor_db);
  }
};

class Engine::Scratch {
 public:
  explicit Scratch(const Impl& impl) : match_data(pcre2_match_data_create(64, nullptr)) {
    if (hs_alloc_scratch(impl.db, &hs) != HS_SUCCESS) throw std::bad_alloc();
    // Its own: the vendor words are searched from inside the main scan's callback.
    if (impl.vendor_db && hs_alloc_scratch(impl.vendor_db, &hs_vendor) != HS_SUCCESS) throw std::bad_alloc();
    context = pcre2_match_context_create(nullptr);
    pcre2_set_match_limit(context, kMatchLimit);
    jit_stack = pcre2_jit_stack_create(32 * 1024, 1024 * 1024, nullptr);
    pcre2_jit_stack_assign(context, nullptr, jit_stack);
  }
  ~Scratch() {
    hs_free_scratch(hs);
    hs_free_scratch(hs_vendor);
    pcre2_match_data_free(match_data);
    pcre2_match_context_free(context);
    pcre2_jit_stack_free(jit_stack);
  }

  hs_scratch_t* hs = nullptr;
  hs_scratch_t* hs_vendor = nullptr;
  pcre2_match_data* match_data;
  pcre2_match_context* context;
  pcre2_jit_stack* jit_stack;

  // Per scan, for each rule: the match starts [lo, hi] searched already (empty when lo > hi).
  // A confirmation searches all the matches starting in a range; a rule's ranges mostly move
  // forward, but vectorscan may report a match ending in an assertion after later ones
  // (hs_expr_info's unordered_matches), so a range before this one is searched too.
  struct Window {
    std::uint64_t lo = 1, hi = 0;
  };
  std::vector<Window> covered;
  std::vector<Finding> found;
  // Where the vendor words have been searched for, [lo, hi) (the windows before the context
  // gates' hits so far, which mostly move forward), and where the window being searched begins.
  std::uint64_t vendor_lo = 0, vendor_hi = 0;
  std::uint64_t window_base = 0;
  // The buffer's end from tail_start on, copied with zeros after it (kJitReadAhead) the first
  // time a window reaches it, and shared by the later ones of the scan.
  std::string tail;
  std::uint64_t tail_start = 0;
  bool tail_ready = false;
  std::string_view data;
  std::span<const std::uint64_t> segment_starts;  // empty: `data` is one segment
  const Impl* impl = nullptr;
  std::optional<Error> failure;
  // Whether "x420:allow" occurs in the input at all (the prefilter looks for it with the
  // keywords): only then is each finding's line searched for it (a JSON body is one long line).
  bool marker_present = false;
};

namespace {

// One match of `r` at [ms, me) with the secret at [ss, se): apply the gates, make a finding.
void consider(const Engine::Impl& impl, std::uint32_t index, std::string_view data,
              std::uint64_t ms, std::uint64_t me, std::uint64_t ss, std::uint64_t se, std::vector<Finding>& out);

int on_prefilter_match(unsigned int id, unsigned long long /*from*/, unsigned long long to,
                       unsigned int /*flags*/, void* ctx);

}  // namespace

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

namespace {

// Cache entry: magic, rule count, each rule's max width, each rule's min width, the length of
// the serialized main database, it, then the serialized vendor-word database (none: empty).
constexpr std::string_view kCacheMagic = "x420hs4";

std::string cache_key(const std::vector<std::string>& patterns, const std::vector<std::string>& vendor_patterns,
                      const std::vector<std::string>& regexes) {
  std::string material = std::string(kCacheMagic) + '\0' + hs_version() + '\0';
  for (const auto& p : patterns) material.append(p).push_back('\0');
  material.push_back('\2');
  for (const auto& p : vendor_patterns) material.append(p).push_back('\0');
  material.push_back('\1');
  for (const auto& r : regexes) material.append(r).push_back('\0');
  static const crypto::SecretBytes kKey(reinterpret_cast<const std::uint8_t*>("x420 engine cache key v1 ......"), 32);
  return crypto::hex_of(crypto::keyed_hash(kKey, material));
}

// Restores the databases and widths from a cache entry; false if it is not usable here.
bool load_cached(std::string_view bytes, std::size_t count, bool want_vendor, hs_database_t** db,
                 hs_database_t** vendor_db, std::vector<std::uint32_t>& widths) {
  const std::size_t header = kCacheMagic.size() + 4 + 8 * count + 8;
  if (bytes.size() <= header || bytes.substr(0, kCacheMagic.size()) != kCacheMagic) return false;
  std::uint32_t n = 0;
  std::memcpy(&n, bytes.data() + kCacheMagic.size(), 4);
  if (n != count) return false;
  widths.resize(2 * count);
  std::memcpy(widths.data(), bytes.data() + kCacheMagic.size() + 4, 8 * count);
  std::uint64_t main_length = 0;
  std::memcpy(&main_length, bytes.data() + header - 8, 8);
  if (main_length == 0 || main_length > bytes.size() - header) return false;
  const std::string_view vendor = bytes.substr(header + main_length);
  if (vendor.empty() == want_vendor) return false;
  if (hs_deserialize_database(bytes.data() + header, main_length, db) != HS_SUCCESS) return false;
  if (want_vendor && hs_deserialize_database(vendor.data(), vendor.size(), vendor_db) != HS_SUCCESS) {
    hs_free_database(*db);
    *db = nullptr;
    return false;
  }
  return true;
}

std::string serialized(hs_database_t* db) {
  if (!db) return {};
  char* bytes = nullptr;
  std::size_t length = 0;
  if (hs_serialize_database(db, &bytes, &length) != HS_SUCCESS) return {};
  std::string out(bytes, length);
  std::free(bytes);
  return out;
}

std::string make_cached(hs_database_t* db, hs_database_t* vendor_db, const std::vector<std::uint32_t>& widths) {
  const std::string main = serialized(db), vendor = serialized(vendor_db);
  if (main.empty() || (vendor_db && vendor.empty())) return {};
  std::string out(kCacheMagic);
  const auto n = static_cast<std::uint32_t>(widths.size() / 2);
  out.append(reinterpret_cast<const char*>(&n), 4);
  out.append(reinterpret_cast<const char*>(widths.data()), 4 * widths.size());
  const std::uint64_t main_length = main.size();
  out.append(reinterpret_cast<const char*>(&main_length), 8);
  out.append(main);
  out.append(vendor);
  return out;
}

// Compiles literal or regex patterns into one block-mode database. `what` names a pattern's
// rule in the error.
Result<hs_database_t*> compile_database(const std::vector<std::string>& patterns, const std::vector<unsigned>& flags,
                                        const std::function<std::string(int)>& what) {
  std::vector<const char*> cpatterns;
  std::vector<unsigned> ids;
  for (const auto& p : patterns) {
    ids.push_back(static_cast<unsigned>(cpatterns.size()));
    cpatterns.push_back(p.c_str());
  }
  hs_database_t* db = nullptr;
  hs_compile_error_t* err = nullptr;
  if (hs_compile_multi(cpatterns.data(), flags.data(), ids.data(), static_cast<unsigned>(cpatterns.size()),
                       HS_MODE_BLOCK, nullptr, &db, &err) != HS_SUCCESS) {
    Error e = make_error(ErrorKind::usage, what(err->expression) + "pattern database does not compile: " + err->message);
    hs_free_compile_error(err);
    return e;
  }
  return db;
}

// The span bounds come from the rule's own regex; the database gets the relaxed form.
Result<std::uint32_t> max_width_of(const std::string& pattern, const std::string& what,
                                   unsigned& flags, std::uint32_t* min_width = nullptr) {
  hs_expr_info_t* info = nullptr;
  hs_compile_error_t* err = nullptr;
  flags = 0;
  if (hs_expression_info(pattern.c_str(), flags, &info, &err) != HS_SUCCESS) {
    // Constructs vectorscan lacks (lookaround, backreferences) still prefilter as a superset;
    // PCRE2 then decides exactly.
    hs_free_compile_error(err);
    err = nullptr;
    flags = HS_FLAG_PREFILTER;
    if (hs_expression_info(pattern.c_str(), flags, &info, &err) != HS_SUCCESS) {
      Error e = make_error(ErrorKind::usage, what + ": regex cannot be compiled: " + err->message);
      hs_free_compile_error(err);
      return e;
    }
  }
  if (info->min_width == 0) {
    std::free(info);
    return make_error(ErrorKind::usage, what + ": regex can match empty text");
  }
  if (info->max_width == UINT_MAX) {
    // The engine confirms a rule in a window as wide as its longest match around each hit; with
    // no bound there is no window (and a stream scanner could not know how much to keep).
    std::free(info);
    return make_error(ErrorKind::usage, what + ": regex has no upper bound on its length (a *, + or {n,} "
                                                "repeat): give every repeat a maximum, such as {1,200}");
  }
  const auto width = std::min<std::uint32_t>(info->max_width, kMaxSpanCap);
  if (min_width) *min_width = std::min<std::uint32_t>(info->min_width, width);
  std::free(info);
  return width;
}

}  // namespace

Result<std::unique_ptr<Engine>> Engine::build(EngineConfig config) {
  auto impl = std::make_unique<Impl>();
  impl->inline_allow = config.inline_allow;
  impl->report_placeholders = config.report_placeholders;

  // Rules first, then known secrets: a finding's rule index is its place here.
  std::vector<std::string> regexes;  // each rule's own, for its width (a known secret: its value)
  for (auto& rule : config.rules) {
    // A keyword's hit is tried only for matches starting at or before it (pcre2_set_offset_limit).
    auto code = compile_pcre(rule.regex, "rule " + rule.id, PCRE2_USE_OFFSET_LIMIT);
    if (!code) return code.error();
    std::uint32_t capture_count = 0;
    pcre2_pattern_info(code->get(), PCRE2_INFO_CAPTURECOUNT, &capture_count);
    if (static_cast<std::uint32_t>(rule.secret_group) > capture_count)
      return make_error(ErrorKind::usage, "rule " + rule.id + ": secret_group " +
                                              std::to_string(rule.secret_group) +
                                              " but the regex has " +
                                              std::to_string(capture_count) + " groups");
    CompiledRule c;
    c.specificity = specificity_of(rule, false);
    c.generic = rule.entropy_min > 0;
    c.code = std::move(code.value());
    regexes.push_back(rule.regex);
    c.rule = std::move(rule);
    impl->rules.push_back(std::move(c));
  }
  for (auto& known : config.known_secrets) {
    if (known.value.size() < kMinKnownSecretLength)
      return make_error(ErrorKind::usage, "known secret " + known.name + " is shorter than " +
                                              std::to_string(kMinKnownSecretLength) +
                                              " bytes; matching it would flag ordinary text");
    CompiledRule c;
    c.rule.id = "known_secret";
    c.rule.description = "registered secret (" + known.name + ")";
    c.rule.severity = Severity::critical;
    c.specificity = specificity_of(c.rule, true);
    c.known_length = known.value.size();
    regexes.push_back(escape_literal(known.value));
    crypto::wipe(known.value);
    impl->rules.push_back(std::move(c));
  }
  if (regexes.empty()) return make_error(ErrorKind::usage, "no rules to scan with");

  unsigned lead_flags = 0;
  const auto context_lead = max_width_of(context_lead_regex(), "the context rules' lead", lead_flags);
  if (!context_lead) return context_lead.error();

  // The context gates, as one regex for checking the examples of the rules they would gate.
  const std::vector<std::string> gates = context_gate_regexes();
  PcreCode gate_check;
  {
    std::string any;
    for (const auto& g : gates) any += (any.empty() ? "(?:" : "|(?:") + g + ")";
    auto code = compile_pcre(any, "the context gates");
    if (!code) return code.error();
    gate_check = std::move(code.value());
  }

  // The prefilter: every keyword once, caseless, starting all the rules that hold it; a rule
  // without keywords by its relaxed regex; a known secret by its value. The vendor words of the
  // gated context rules go to a database of their own, and the gates to the main one.
  std::vector<std::string> patterns, vendor_patterns;
  std::vector<unsigned> pattern_flags;
  std::size_t longest_vendor_word = 0;
  // The rules whose vendor words go behind the gates; none when they are few, since the gates
  // cost a database about 150 ms more to compile and pay for that only with many vendor words.
  std::vector<bool> behind_gates(impl->rules.size(), false);
  {
    std::size_t count = 0;
    for (std::size_t i = 0; i < impl->rules.size(); ++i) {
      const auto& c = impl->rules[i];
      behind_gates[i] = !c.known_length && shape_of(c.rule) == Shape::none &&
                        gate_finds_examples(c.rule, c.code.get(), gate_check.get());
      count += behind_gates[i];
    }
    if (count < kMinGatedRules) behind_gates.assign(behind_gates.size(), false);
  }
  {
    std::unordered_map<std::string, std::size_t> keyword_pattern, vendor_pattern;
    for (std::size_t i = 0; i < impl->rules.size(); ++i) {
      const auto& c = impl->rules[i];
      const auto index = static_cast<std::uint32_t>(i);
      if (c.known_length) {
        patterns.push_back(regexes[i]);
        pattern_flags.push_back(0);
        impl->patterns.push_back({{index}});
        continue;
      }
      if (const Shape shape = shape_of(c.rule); shape != Shape::none) {
        auto it = std::find_if(impl->shapes.begin(), impl->shapes.end(),
                               [&](const ShapeRules& r) { return r.shape == shape; });
        if (it == impl->shapes.end()) {
          it = impl->shapes.insert(impl->shapes.end(), {shape, {}});
          impl->shape_kinds.push_back(shape);
        }
        it->rules.push_back(index);
        continue;
      }
      std::vector<std::string> keywords = minimal_keywords(anchored_keywords(c.rule, c.rule.keywords));
      // A gated context rule's vendor words are its keywords in the vendor database; its whole
      // names (which need no secret word) and other keywords stay in the main one.
      std::vector<std::string> vendor_keywords;
      if (behind_gates[i]) {
        const auto vendor_spellings = context_keywords(c.rule.context);
        const auto name_spellings = context_keywords(c.rule.context_names);
        std::vector<std::string> vendor, rest;
        for (const auto& k : c.rule.keywords) {
          const std::string l = lower(k);
          (contains(vendor_spellings, l) && !contains(name_spellings, l) ? vendor : rest).push_back(l);
        }
        vendor_keywords = minimal_keywords(anchored_keywords(c.rule, vendor));
        keywords = minimal_keywords(anchored_keywords(c.rule, rest));
      }
      // Most vendors' tokens start with their keyword ("ghp_", "sk-ant-api0", "eyJ"). A literal
      // every match begins with is a keyword of its own: where the rule's keywords lie
      // elsewhere, a long enough one is the better gate ("authorization" rather than "bearer").
      const std::string prefix = literal_prefix(c.rule.regex);
      const auto in_prefix = [&](const std::string& k) { return prefix.find(k) != std::string::npos; };
      if (!keywords.empty() && prefix.size() >= kMinPrefixKeyword && std::none_of(keywords.begin(), keywords.end(), in_prefix))
        keywords = {prefix};
      std::size_t lead = SIZE_MAX;
      if (!c.rule.context.empty()) {
        // Its name starts the match: the secret word and gap before the vendor word, then the
        // vendor word, in which the keyword found may begin anywhere (minimal_keywords).
        std::size_t longest = 0;
        for (const auto& k : c.rule.keywords) longest = std::max(longest, k.size());
        lead = *context_lead + longest;
      }
      for (const auto& k : keywords)
        if (const auto at = prefix.find(k); at != std::string::npos) lead = std::min(lead, at);
      // A common keyword starts a rule only when its hits are cheap to try: the rule's match
      // begins close before them, and none is a two-letter word found everywhere.
      const bool cheap = lead != SIZE_MAX && std::none_of(keywords.begin(), keywords.end(),
                                                          [](const std::string& k) { return k.size() < 3; });
      const bool gated = !vendor_keywords.empty() ||
                         (!keywords.empty() &&
                          (cheap || std::none_of(c.rule.keywords.begin(), c.rule.keywords.end(),
                                                 [](const std::string& k) { return common_keyword(lower(k)); })));
      impl->rules[i].by_keyword = gated;
      if (lead != SIZE_MAX) impl->rules[i].keyword_lead = static_cast<std::uint32_t>(lead);
      for (const std::string& k : vendor_keywords) {
        auto [it, fresh] = vendor_pattern.try_emplace(k, vendor_patterns.size());
        if (fresh) {
          vendor_patterns.push_back(escape_literal(k));
          impl->vendor_patterns.push_back({{}, static_cast<std::uint32_t>(k.size())});
          longest_vendor_word = std::max(longest_vendor_word, k.size());
        }
        auto& starts = impl->vendor_patterns[it->second].rules;
        if (starts.empty() || starts.back() != index) starts.push_back(index);
      }
      if (!gated) {
        unsigned f = 0;
        if (auto width = max_width_of(regexes[i], "rule " + c.rule.id, f); !width) return width.error();
        patterns.push_back(relax_for_prefilter(regexes[i]));
        pattern_flags.push_back(f);
        impl->patterns.push_back({{index}});
        continue;
      }
      for (const std::string& k : keywords) {
        auto [it, fresh] = keyword_pattern.try_emplace(k, patterns.size());
        if (fresh) {
          patterns.push_back(escape_literal(k));
          pattern_flags.push_back(HS_FLAG_CASELESS);
          impl->patterns.push_back({{}, static_cast<std::uint32_t>(k.size())});
        }
        auto& starts = impl->patterns[it->second].rules;
        if (starts.empty() || starts.back() != index) starts.push_back(index);
      }
    }
    if (!vendor_patterns.empty()) {
      std::uint64_t widest = 0;
      for (const auto& g : gates) {
        unsigned f = 0;
        const auto width = max_width_of(g, "a context gate", f);
        if (!width) return width.error();
        widest = std::max<std::uint64_t>(widest, *width);
        patterns.push_back(g);
        pattern_flags.push_back(0);
        impl->patterns.push_back({{}, 0, true});
      }
      // A gate's match begins at the secret word; the vendor word may come before it, the
      // name's gap apart (the context lead is the secret word and that gap).
      impl->gate_reach = widest + *context_lead + longest_vendor_word;
      impl->longest_vendor_word = longest_vendor_word;
    }
    if (config.inline_allow) {
      patterns.push_back(escape_literal(kInlineAllow));
      pattern_flags.push_back(0);
      impl->patterns.push_back({{}, 0, false, true});
    }
    // Every database gets a pattern no text matches. It keeps the main one from being empty
    // (when every rule has a dedicated scanner), and it works around vectorscan 5.4.9 (Debian
    // 12) missing literals of small caseless literal sets at some offsets of buffers under
    // about 160 bytes: "AZDO" 64 bytes into a 75-byte buffer with two patterns, "Pwd=" with the
    // four keywords of the ADO rule (330 of 19,306 placements), 4 of 60 random sets of one to
    // eight keywords. With this pattern beside them, none of 250 random sets missed one
    // (engine_test holds the engine to it).
    patterns.push_back(kNeverMatches);
    pattern_flags.push_back(0);
    impl->patterns.push_back({});
    if (!vendor_patterns.empty()) {
      vendor_patterns.push_back(kNeverMatches);
      impl->vendor_patterns.push_back({});
    }
  }

  const bool cacheable = config.cache && config.known_secrets.empty();
  const std::string key = cacheable ? cache_key(patterns, vendor_patterns, regexes) : std::string();
  std::vector<std::uint32_t> widths;
  bool cached = false;
  if (cacheable)
    if (auto bytes = config.cache->load(key))
      cached = load_cached(*bytes, regexes.size(), !vendor_patterns.empty(), &impl->db, &impl->vendor_db, widths);

  if (!cached) {
    widths.assign(2 * regexes.size(), 0);  // the max widths, then the min widths
    for (std::size_t i = 0; i < regexes.size(); ++i) {
      const auto& c = impl->rules[i];
      unsigned f = 0;
      auto width = max_width_of(regexes[i], "rule " + c.rule.id, f, &widths[regexes.size() + i]);
      if (!width) return width.error();
      widths[i] = *width;
    }
    const auto named = [&](const std::vector<PrefilterPattern>& of) {
      return [&](int expression) {
        if (expression < 0 || of[expression].rules.empty()) return std::string();
        return "rule " + impl->rules[of[expression].rules.front()].rule.id + ": ";
      };
    };
    auto db = compile_database(patterns, pattern_flags, named(impl->patterns));
    if (!db) return db.error();
    impl->db = *db;
    if (!vendor_patterns.empty()) {
      auto vendor_db = compile_database(vendor_patterns, std::vector<unsigned>(vendor_patterns.size(), HS_FLAG_CASELESS),
                                        named(impl->vendor_patterns));
      if (!vendor_db) return vendor_db.error();
      impl->vendor_db = *vendor_db;
    }
    if (cacheable) config.cache->store(key, make_cached(impl->db, impl->vendor_db, widths));
  }
  for (std::size_t i = 0; i < regexes.size(); ++i) {
    impl->rules[i].max_width = widths[i];
    impl->rules[i].min_width = widths[regexes.size() + i];
    impl->max_span = std::max<std::size_t>(impl->max_span, widths[i]);
  }

  for (const auto& r : config.allowlist.regexes) {
    auto code = compile_pcre(r, "allowlist regex '" + r + "'");
    if (!code) return code.error();
    impl->allow_regexes.push_back(std::move(code.value()));
  }
  impl->allow_values.insert(config.allowlist.values.begin(), config.allowlist.values.end());
  impl->allow_fingerprints.insert(config.allowlist.fingerprints.begin(),
                                  config.allowlist.fingerprints.end());
  for (const auto& s : config.allowlist.stopwords) impl->stopwords.push_back(lower(s));

  if (config.fingerprint_key.empty()) {
    // Fixed and public: see EngineConfig::fingerprint_key.
    static constexpr std::string_view kPublic = "x420 fingerprint key, version 1";
    impl->fingerprint_key = crypto::SecretBytes(reinterpret_cast<const std::uint8_t*>(kPublic.data()),
                                                kPublic.size());
  } else {
    impl->fingerprint_key = std::move(config.fingerprint_key);
  }
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Status check_allowlist(const AllowlistSpec& allowlist) {
  for (const auto& r : allowlist.regexes)
    if (auto code = compile_pcre(r, "allowlist regex '" + r + "'"); !code) return code.error();
  return ok_status();
}

Engine::ScratchPtr Engine::make_scratch() const { return ScratchPtr(new Scratch(*impl_)); }

void Engine::ScratchDeleter::operator()(Scratch* s) const { delete s; }

const Rule& Engine::rule(std::uint32_t index) const { return impl_->rules.at(index).rule; }
std::size_t Engine::rule_count() const { return impl_->rules.size(); }
std::size_t Engine::max_span() const { return impl_->max_span; }

namespace {

struct Segment {
  std::uint64_t begin, end;
};

// The segment holding byte `at` of the scan.
Segment segment_at(const Engine::Scratch& s, std::uint64_t at) {
  const auto& starts = s.segment_starts;
  if (starts.empty()) return {0, s.data.size()};
  const auto it = std::upper_bound(starts.begin(), starts.end(), at);
  const std::uint64_t begin = it == starts.begin() ? 0 : *(it - 1);
  const std::uint64_t end = it == starts.end() ? s.data.size() : std::min<std::uint64_t>(*it, s.data.size());
  return {begin, end};
}

bool is_block_body_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
         c == '=' || c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\\';
}

// Where a block secret whose regex matched [ms, me) ends: after its end marker when the base64
// run reaches it; else, in a segmented scan, after the marker's next occurrence in the segment or
// at the segment's end (the value is cut: all of it is the key's); else where the run ends.
std::uint64_t block_end_of(const Engine::Scratch& s, const Rule& r, std::uint64_t ms, std::uint64_t me) {
  const std::string_view data = s.data;
  const Segment seg = segment_at(s, ms);
  std::uint64_t run = me;
  while (run < seg.end && is_block_body_char(data[run])) ++run;
  // The marker begins the end line ("-----END "): the line's label and closing dashes are part of it.
  const auto through_line = [&](std::uint64_t at) {
    std::uint64_t end = at + r.block_end.size();
    const std::uint64_t limit = std::min<std::uint64_t>(seg.end, end + 64);
    while (end < limit && ((data[end] >= 'A' && data[end] <= 'Z') || (data[end] >= '0' && data[end] <= '9') || data[end] == ' ')) ++end;
    while (end < seg.end && data[end] == '-') ++end;
    return end;
  };
  if (data.substr(run, seg.end - run).starts_with(r.block_end)) return through_line(run);
  if (s.segment_starts.empty()) return run;
  const auto at = data.substr(run, seg.end - run).find(r.block_end);
  return at == std::string_view::npos ? seg.end : through_line(run + at);
}

bool line_has_inline_allow(std::string_view data, std::uint64_t at) {
  const std::uint64_t lo = at > kInlineAllowReach ? at - kInlineAllowReach : 0;
  std::uint64_t begin = at;
  while (begin > lo && data[begin - 1] != '\n') --begin;
  const std::uint64_t hi = std::min<std::uint64_t>(data.size(), at + kInlineAllowReach);
  std::uint64_t end = at;
  while (end < hi && data[end] != '\n') ++end;
  return data.substr(begin, end - begin).find(kInlineAllow) != std::string_view::npos;
}

bool contains_stopword(const std::vector<std::string>& stopwords, std::string_view secret) {
  if (stopwords.empty()) return false;
  const std::string l = lower(secret);
  for (const auto& w : stopwords)
    if (l.find(w) != std::string::npos) return true;
  return false;
}

void consider(const Engine::Impl& impl, std::uint32_t index, std::string_view data,
              std::uint64_t ms, std::uint64_t me, std::uint64_t ss, std::uint64_t se, std::vector<Finding>& out) {
  const CompiledRule& c = impl.rules[index];
  const Rule& r = c.rule;
  const std::string_view secret = data.substr(ss, se - ss);
  if (secret.empty() || secret.size() < r.min_len) return;
  if (r.entropy_min > 0 && shannon_entropy(secret) < r.entropy_min) return;
  if (c.generic && contains_stopword(impl.stopwords, secret)) return;
  // A registered secret is reported whatever it looks like; a key block is long base64 whose
  // zero runs ("AAAA…") are real.
  if (!impl.report_placeholders && !c.known_length && r.block_end.empty() && looks_like_placeholder(secret))
    return;
  const Verdict verdict = validate(r.validator, secret);
  if (verdict == Verdict::reject) return;
  if (impl.allow_values.count(std::string(secret))) return;
  for (const auto& re : impl.allow_regexes) {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(re.get(), nullptr);
    const int rc = pcre2_match(re.get(), reinterpret_cast<PCRE2_SPTR>(secret.data()), secret.size(),
                               0, 0, md, nullptr);
    pcre2_match_data_free(md);
    if (rc >= 0) return;
  }

  Finding f;
  f.rule = index;
  f.start = ss;
  f.end = se;
  f.match_start = ms;
  f.match_end = me;
  f.checksum_failed = verdict == Verdict::accept_bad_checksum;
  if (c.known_length || (r.validator != Validator::none && !f.checksum_failed))
    f.confidence = Confidence::high;
  else if (c.generic || f.checksum_failed)
    f.confidence = Confidence::low;
  std::string material = r.id;
  material.push_back('\0');
  material.append(secret);
  f.fingerprint = crypto::hex_of(crypto::keyed_hash(impl.fingerprint_key, material), 8);
  crypto::wipe(material);
  if (!impl.allow_fingerprints.empty() && impl.allow_fingerprints.count(f.fingerprint)) return;
  out.push_back(std::move(f));
}

// Runs rule `index` over [ws, we) of segment `seg`, reporting each match that starts before
// `start_limit` (PCRE2_UNSET: any): PCRE2's search, then consider() for each match.
void search(Engine::Scratch& s, std::uint32_t index, std::uint64_t ws, std::uint64_t we, std::uint64_t start_limit,
            Segment seg) {
  const auto& impl = *s.impl;
  const CompiledRule& c = impl.rules[index];
  const std::string_view data = s.data;
  // Past the window's end the segment goes on: `$` must not match there, and a match that
  // reaches it belongs to a later window. At the segment's end the subject ends.
  const std::uint32_t options = we < seg.end ? PCRE2_NOTEOL : 0;
  const char* subject = data.data();
  std::uint64_t shift = 0;  // the subject's first byte is data[shift]
  if (data.size() - we < kJitReadAhead) {
    const std::uint64_t wanted = ws > kLookBehind ? ws - kLookBehind : 0;
    if (!s.tail_ready || wanted < s.tail_start) {
      s.tail_start = wanted;
      s.tail.assign(data.substr(wanted));
      s.tail.append(kJitReadAhead, '\0');
      s.tail_ready = true;
    }
    shift = s.tail_start;
    subject = s.tail.data();
  }
  pcre2_set_offset_limit(s.context, start_limit == PCRE2_UNSET ? PCRE2_UNSET : start_limit - shift);
  const auto subject_ptr = reinterpret_cast<PCRE2_SPTR>(subject);
  std::uint64_t offset = ws;
  while (offset < we && offset <= start_limit) {
    const int rc = pcre2_jit_match(c.code.get(), subject_ptr, we - shift, offset - shift, options, s.match_data,
                                   s.context);
    if (rc == PCRE2_ERROR_NOMATCH) break;
    if (rc == PCRE2_ERROR_JIT_BADOPTION) {  // JIT unavailable: the interpreter does the same
      const int rc2 = pcre2_match(c.code.get(), subject_ptr, we - shift, offset - shift, options, s.match_data,
                                  s.context);
      if (rc2 == PCRE2_ERROR_NOMATCH) break;
      if (rc2 < 0) {
        s.failure = make_error(ErrorKind::internal, "rule " + c.rule.id + ": " + pcre_error(rc2));
        return;
      }
    } else if (rc < 0) {
      s.failure = make_error(ErrorKind::internal, "rule " + c.rule.id + ": " + pcre_error(rc));
      return;
    }
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(s.match_data);
    const std::uint64_t ms = ov[0] + shift, me = ov[1] + shift;
    if (me == we && we < seg.end) break;
    if (me <= ms) {
      offset = ms + 1;
      continue;
    }
    std::uint64_t ss = ms, se = me;
    const int g = c.rule.secret_group;
    if (g > 0 && ov[2 * g] != PCRE2_UNSET) {
      ss = ov[2 * g] + shift;
      se = ov[2 * g + 1] + shift;
    }
    // A block secret runs past its regex; the match keeps the regex's end, which is what a
    // stream scanner must have seen to report it.
    if (!c.rule.block_end.empty() && se == me && data.substr(ms, me - ms).find(c.rule.block_end) == std::string_view::npos)
      se = block_end_of(s, c.rule, ms, me);
    consider(impl, index, data, ms, me, ss, se, s.found);
    offset = std::max(me, se);
    // As in one search along the text, no match of the rule starts inside this one.
    auto& w = s.covered[index];
    if (w.lo <= w.hi && offset > w.hi + 1) w.hi = offset - 1;
  }
}

// A lookahead may read a little past a match's last byte ("(?![A-Za-z0-9])"): a window reaches
// this far beyond the longest match it looks for, so the lookahead reads the real bytes.
constexpr std::uint64_t kLookAhead = 16;

// Searches rule `index` for every match starting in [lo, hi] of segment `seg`.
void search_range(Engine::Scratch& s, std::uint32_t index, std::uint64_t lo, std::uint64_t hi, Segment seg) {
  const std::uint64_t we = std::min<std::uint64_t>(seg.end, hi + s.impl->rules[index].max_width + kLookAhead);
  search(s, index, lo, we, hi, seg);
}

// Searches rule `index` for the matches starting in [lo, hi] of segment `seg` that earlier calls
// of this scan have not searched for.
void search_starts(Engine::Scratch& s, std::uint32_t index, std::uint64_t lo, std::uint64_t hi, Segment seg) {
  if (seg.begin >= seg.end) return;
  lo = std::max(lo, seg.begin);
  hi = std::min(hi, seg.end - 1);
  if (lo > hi) return;
  auto& w = s.covered[index];
  const Engine::Scratch::Window old = w;
  if (old.lo <= old.hi && lo >= old.lo && hi <= old.hi) return;
  if (old.lo > old.hi || hi + 1 < old.lo || lo > old.hi + 1) {  // nothing searched next to it
    w = {lo, hi};
    search_range(s, index, lo, hi, seg);
    return;
  }
  w = {std::min(lo, old.lo), std::max(hi, old.hi)};
  if (lo < old.lo) search_range(s, index, lo, old.lo - 1, seg);
  if (!s.failure && hi > old.hi) search_range(s, index, old.hi + 1, hi, seg);
}

// How far past the latest start a hit can have, a regex-prefiltered confirmation also searches:
// such a rule's hits come dense along a long value (vectorscan reports every end of the
// relaxed pattern), and each would otherwise be a PCRE2 call of its own.
constexpr std::uint64_t kHitSlack = 64;

// Runs a regex-prefiltered rule around a prefilter hit ending at `to` in segment `seg`.
// Vectorscan reports every end of the relaxed pattern, whose matches hold the rule's, so each
// match of the rule ends at a hit: this one is tried for the matches that could end at it.
void confirm_in(Engine::Scratch& s, std::uint32_t index, std::uint64_t to, Segment seg) {
  const CompiledRule& c = s.impl->rules[index];
  const std::uint64_t lo = to > c.max_width ? to - c.max_width : 0;
  const std::uint64_t hi = (to > c.min_width ? to - c.min_width : 0) + kHitSlack;
  search_starts(s, index, lo, hi, seg);
}

// A rule may end in a byte of context after the secret ("[^A-Za-z0-9]|$"), which at a
// segment's end is the next segment's first byte: a hit that far into a segment is confirmed in
// the previous one too.
constexpr std::uint64_t kTrailingContext = 8;

// Runs rule `index` around a prefilter hit at [from, to).
void confirm(Engine::Scratch& s, std::uint32_t index, std::uint64_t from, std::uint64_t to) {
  const CompiledRule& c = s.impl->rules[index];
  const Segment seg = segment_at(s, to - 1);  // the hit's last byte is in it
  if (c.known_length) {  // an exact literal: the prefilter's hit is the match
    const std::uint64_t start = to - c.known_length;
    if (start >= seg.begin) consider(*s.impl, index, s.data, start, to, start, to, s.found);
    return;
  }
  if (c.by_keyword) {
    // A match holding the keyword starts at or before it, at most the rule's width before its
    // end and at most the rule's lead before its start. A keyword across two segments is in none.
    if (from < seg.begin) return;
    const std::uint64_t by_width = to > c.max_width ? to - c.max_width : 0;
    const std::uint64_t by_lead = from > c.keyword_lead ? from - c.keyword_lead : 0;
    search_starts(s, index, std::max(by_width, by_lead), from, seg);
    return;
  }
  if (seg.begin > 0 && to - 1 - seg.begin < kTrailingContext) {
    confirm_in(s, index, seg.begin, segment_at(s, seg.begin - 1));
    if (s.failure) return;
  }
  confirm_in(s, index, to, seg);
}

int on_vendor_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
  auto& s = *static_cast<Engine::Scratch*>(ctx);
  const PrefilterPattern& p = s.impl->vendor_patterns[id];
  const std::uint64_t end = s.window_base + to;
  for (const std::uint32_t rule : p.rules) {
    confirm(s, rule, end - p.keyword_length, end);
    if (s.failure) return 1;
  }
  return 0;
}

// Searches the vendor words in [lo, hi) and confirms the rules of each one found.
bool search_vendor_window(Engine::Scratch& s, std::uint64_t lo, std::uint64_t hi) {
  if (lo >= hi) return true;
  s.window_base = lo;
  const hs_error_t rc = hs_scan(s.impl->vendor_db, s.data.data() + lo, static_cast<unsigned>(hi - lo), 0,
                                s.hs_vendor, on_vendor_match, &s);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED && !s.failure)
    s.failure = make_error(ErrorKind::internal, "vectorscan failed with code " + std::to_string(rc));
  return !s.failure;
}

// A context gate matched up to `to`: a gated context rule's match may be there, its vendor word
// before the gate's match. Searches the window before `to` that earlier gates' windows left.
void search_vendor_words(Engine::Scratch& s, std::uint64_t to) {
  const auto& impl = *s.impl;
  const Segment seg = segment_at(s, to - 1);
  const std::uint64_t lo = std::max<std::uint64_t>(seg.begin, to > impl.gate_reach ? to - impl.gate_reach : 0);
  std::uint64_t& from = s.vendor_lo;
  std::uint64_t& until = s.vendor_hi;
  if (from < until && lo >= from && to <= until) return;  // searched already
  if (from >= until || to < from || lo > until) {  // apart from what was searched
    from = lo;
    until = to;
    search_vendor_window(s, lo, to);
    return;
  }
  // Only the new part is searched, from a word's length inside the old range, so a word
  // reaching across its edge is found (one found twice is searched for once: search_starts).
  const std::uint64_t old_from = from, old_until = until;
  from = std::min(from, lo);
  until = std::max(until, to);
  const std::uint64_t word = s.impl->longest_vendor_word;
  if (lo < old_from && !search_vendor_window(s, lo, std::min(to, old_from + word))) return;
  if (to > old_until) search_vendor_window(s, std::max(lo, old_until > word ? old_until - word : 0), to);
}

int on_prefilter_match(unsigned int id, unsigned long long, unsigned long long to, unsigned int,
                       void* ctx) {
  auto& s = *static_cast<Engine::Scratch*>(ctx);
  const PrefilterPattern& p = s.impl->patterns[id];
  if (p.gate) {
    search_vendor_words(s, to);
    return s.failure ? 1 : 0;
  }
  if (p.marker) {
    s.marker_present = true;
    return 0;
  }
  for (const std::uint32_t rule : p.rules) {
    confirm(s, rule, to - p.keyword_length, to);
    if (s.failure) return 1;  // non-zero stops the scan
  }
  return 0;
}

// Runs the rules of a dedicated scanner around its runs. A value lies inside a run, so a match
// overlaps it: it starts before the run's end, and less than the rule's width before its start.
void scan_shapes(Engine::Scratch& s) {
  const auto& shapes = s.impl->shapes;
  if (shapes.empty()) return;
  find_shape_runs(s.data, s.impl->shape_kinds, [&](Shape shape, std::uint64_t begin, std::uint64_t end) {
    const auto it = std::find_if(shapes.begin(), shapes.end(), [&](const ShapeRules& r) { return r.shape == shape; });
    for (const std::uint32_t index : it->rules) {
      const std::uint32_t width = s.impl->rules[index].max_width;
      const std::uint64_t lo = begin + 1 > width ? begin + 1 - width : 0;
      // A match lies in one segment: each segment the run reaches is searched on its own.
      for (Segment seg = segment_at(s, lo);; seg = segment_at(s, seg.end)) {
        if (s.failure) return;
        search_starts(s, index, lo, end - 1, seg);
        if (seg.end >= end) break;
      }
    }
  });
}

// Keeps, of overlapping findings, the most specific (then longest, then first-listed) rule's.
std::vector<Finding> resolve_overlaps(const Engine::Impl& impl, std::vector<Finding> found) {
  std::sort(found.begin(), found.end(), [&](const Finding& a, const Finding& b) {
    const int sa = impl.rules[a.rule].specificity, sb = impl.rules[b.rule].specificity;
    if (sa != sb) return sa > sb;
    const auto la = a.end - a.start, lb = b.end - b.start;
    if (la != lb) return la > lb;
    if (a.rule != b.rule) return a.rule < b.rule;
    if (a.start != b.start) return a.start < b.start;
    return a.match_start < b.match_start;  // one secret found twice: the wider match
  });
  std::vector<Finding> kept;  // sorted by start, non-overlapping
  for (auto& f : found) {
    auto it = std::lower_bound(kept.begin(), kept.end(), f.start,
                               [](const Finding& k, std::uint64_t start) { return k.end <= start; });
    if (it != kept.end() && it->start < f.end) continue;  // overlaps one already kept
    kept.insert(it, std::move(f));
  }
  return kept;
}

}  // namespace

std::vector<Finding> Engine::scan(std::string_view data, Scratch& s) const { return scan(data, s, {}); }

std::vector<Finding> Engine::scan(std::string_view data, Scratch& s,
                                  std::span<const std::uint64_t> segment_starts) const {
  s.impl = impl_.get();
  s.data = data;
  s.segment_starts = segment_starts;
  s.found.clear();
  s.failure.reset();
  s.covered.assign(impl_->rules.size(), {});
  s.tail_ready = false;
  s.vendor_lo = s.vendor_hi = 0;
  if (data.empty()) return {};
  s.marker_present = false;
  if (data.size() > UINT_MAX) throw Fatal(ErrorKind::usage, "input over 4 GiB: scan it as a stream");
  const hs_error_t rc = hs_scan(impl_->db, data.data(), static_cast<unsigned>(data.size()), 0,
                                s.hs, on_prefilter_match, &s);
  if (s.failure) throw Fatal(*s.failure);
  if (rc != HS_SUCCESS && rc != HS_SCAN_TERMINATED)
    throw Fatal(ErrorKind::internal, "vectorscan failed with code " + std::to_string(rc));
  scan_shapes(s);
  if (s.failure) throw Fatal(*s.failure);
  // A line holding "x420:allow" accepts what is found on it; the marker may come after a
  // finding on its line, so this waits for the scan's end.
  if (s.marker_present)
    std::erase_if(s.found, [&](const Finding& f) { return line_has_inline_allow(data, f.start); });
  return resolve_overlaps(*impl_, std::move(s.found));
}

StreamScanner::StreamScanner(const Engine& engine, Engine::Scratch& scratch)
    : engine_(engine), scratch_(scratch) {}

void StreamScanner::feed_impl(std::string_view chunk, bool final, const Callback& cb) {
  // One byte past a match decides it (a word boundary, a greedy run ending), so matches
  // touching the buffer's end wait for the next chunk.
  constexpr std::size_t kGuard = 1;
  buffer_.append(chunk);
  const auto findings = engine_.scan(buffer_, scratch_);
  const std::size_t safe = final ? buffer_.size() : (buffer_.size() > kGuard ? buffer_.size() - kGuard : 0);
  for (const auto& f : findings) {
    const std::uint64_t abs_end = buffer_offset_ + f.match_end;
    if (abs_end <= reported_until_ || f.match_end > safe) continue;
    Finding shifted = f;
    shifted.start += buffer_offset_;
    shifted.end += buffer_offset_;
    shifted.match_start += buffer_offset_;
    shifted.match_end += buffer_offset_;
    cb(shifted, std::string_view(buffer_).substr(f.match_start, f.match_end - f.match_start));
  }
  reported_until_ = buffer_offset_ + safe;
  // Keep enough context for any match that ends after `safe`, plus one byte of look-behind.
  const std::size_t keep = std::min(buffer_.size(), engine_.max_span() + kGuard + 1);
  const std::size_t drop = buffer_.size() - keep;
  buffer_.erase(0, drop);
  buffer_offset_ += drop;
}

}  // namespace x420::detect
