// check_rules — developer tool that validates the built-in rule set (builtin.toml).
//
// Not part of the build. Compile and run:
//   g++ -std=c++20 -O1 lib/detect/rules/check_rules.cpp -o /tmp/check_rules -lhs
//   /tmp/check_rules lib/detect/rules/builtin.toml [-v] [--bench MIB] [--scan FILE|@LIST...]
//
//   -v          per-example results, per-rule hs_compile times, SOM notes, rule families
//   --bench N   throughput of the combined prefilter database over N MiB of synthetic text
//   --scan ...  run prefilter + confirm over files known to be clean and print every finding
//               (a quick false-positive hunt); @LIST reads one path per line from LIST
//
// What it checks, for every [[rule]]:
//   * required fields present with the right types; no unknown fields; unique ids;
//     id is lowercase dotted; severity / validator from the allowed sets;
//     keywords non-empty, short, lowercase.
//   * the regex uses only the vectorscan-compatible subset (no lookaround, no
//     backreferences, no atomic groups, no possessive quantifiers, (?i) only at the
//     very start, no other inline flags); unbounded quantifiers are reported as
//     warnings.
//   * the regex compiles with hs_compile (HS_FLAG_CASELESS when it starts with (?i));
//     the whole set also compiles as one multi-pattern database, with and without
//     HS_FLAG_SOM_LEFTMOST (the latter is informational: the engine may want spans).
//   * every `examples` entry matches (vectorscan), is confirmed by std::regex
//     (ECMAScript, icase for (?i)) with secret_group / min_len / entropy_min / validator
//     applied, and the match contains one of the keywords (case-insensitively);
//   * every `negative_examples` entry produces no accepted finding.
//
// Validators implemented here: luhn, iban_mod97, github_crc32, x420_checksum, jwt, none.
// As in the engine (lib/detect/rule.h), luhn / iban_mod97 / jwt decide (a failure is no
// finding), while github_crc32 / x420_checksum only lower the confidence: a token with a bad
// checksum is still a finding. So negatives must not rely on a bad checksum, and every
// positive example must carry a valid one (it is reported as a failure otherwise).
// An optional [allowlist] table is accepted (stopwords, regexes, values, paths,
// fingerprints); its stopwords and values are applied like the engine does (stopwords only to
// entropy-gated rules).
// x420_checksum follows the format assumed by the rule set: the last 6 characters are
// CRC32 (IEEE) of everything before them ("x420_<id>_<secret>"), base62
// (0-9A-Za-z), big-endian, left-padded with '0'. github_crc32 is GitHub's published
// scheme: the last 6 characters are CRC32 of the 30 random characters after the
// prefix, in the same base62 encoding.
//
// Output ends with: "N rules, N examples ok, N failures". Exit status 0 iff no failures.

#include <hs/hs.h>
#include <toml++/toml.h>

#include <algorithm>
#include <chrono>
#include <array>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace {

struct Rule {
    std::string id;
    std::string description;
    std::string severity;
    std::vector<std::string> keywords;
    std::string regex;        // as written in the file
    std::string body;         // regex without a leading (?i)
    bool caseless = false;
    int secret_group = 0;
    std::string validator = "none";
    std::optional<double> entropy_min;
    std::optional<int64_t> min_len;
    std::vector<std::string> examples;
    std::vector<std::string> negatives;
    hs_database_t* db = nullptr;
    std::optional<std::regex> re;
};

int g_failures = 0;
int g_warnings = 0;
bool g_verbose = false;
std::vector<std::string> g_no_som;
std::vector<std::string> g_stopwords;   // [allowlist] stopwords, lowercased
std::set<std::string> g_allow_values;   // [allowlist] values  // rules whose pattern cannot be compiled with HS_FLAG_SOM_LEFTMOST

void fail(const std::string& id, const std::string& msg) {
    ++g_failures;
    std::cout << "FAIL " << (id.empty() ? "<no id>" : id) << ": " << msg << "\n";
}
void warn(const std::string& id, const std::string& msg) {
    ++g_warnings;
    std::cout << "warn " << id << ": " << msg << "\n";
}

std::string printable(std::string_view s, size_t max = 90) {
    std::string out;
    for (char c : s) {
        if (out.size() >= max) { out += "..."; break; }
        if (c == '\n') out += "\\n";
        else if (c == '\r') out += "\\r";
        else if (c == '\t') out += "\\t";
        else if (static_cast<unsigned char>(c) < 0x20) out += '?';
        else out += c;
    }
    return out;
}

std::string lower(std::string_view s) {
    std::string o(s);
    for (auto& c : o) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return o;
}

// ---------------------------------------------------------------- validators

double shannon(std::string_view s) {
    if (s.empty()) return 0.0;
    std::array<size_t, 256> counts{};
    for (unsigned char c : s) ++counts[c];
    double h = 0.0;
    const double n = static_cast<double>(s.size());
    for (size_t c : counts) {
        if (!c) continue;
        const double p = static_cast<double>(c) / n;
        h -= p * std::log2(p);
    }
    return h;
}

bool luhn(std::string_view s) {
    std::string d;
    for (char c : s) {
        if (std::isdigit(static_cast<unsigned char>(c))) d += c;
        else if (c != ' ' && c != '-') return false;
    }
    if (d.size() < 12 || d.size() > 19) return false;
    int sum = 0;
    bool dbl = false;
    for (auto it = d.rbegin(); it != d.rend(); ++it) {
        int v = *it - '0';
        if (dbl) { v *= 2; if (v > 9) v -= 9; }
        sum += v;
        dbl = !dbl;
    }
    return sum % 10 == 0;
}

bool iban_mod97(std::string_view s) {
    std::string t;
    for (char c : s) {
        if (c == ' ') continue;
        if (!std::isalnum(static_cast<unsigned char>(c))) return false;
        t += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
    if (t.size() < 15 || t.size() > 34) return false;
    if (!std::isalpha(static_cast<unsigned char>(t[0])) || !std::isalpha(static_cast<unsigned char>(t[1])) ||
        !std::isdigit(static_cast<unsigned char>(t[2])) || !std::isdigit(static_cast<unsigned char>(t[3])))
        return false;
    const std::string r = t.substr(4) + t.substr(0, 4);
    int rem = 0;
    for (char c : r) {
        if (std::isdigit(static_cast<unsigned char>(c))) {
            rem = (rem * 10 + (c - '0')) % 97;
        } else {
            const int v = c - 'A' + 10;
            rem = (rem * 100 + v) % 97;
        }
    }
    return rem == 1;
}

uint32_t crc32(std::string_view s) {
    uint32_t crc = 0xFFFFFFFFu;
    for (unsigned char c : s) {
        crc ^= c;
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
    }
    return ~crc;
}

std::string base62_6(uint32_t v) {
    static constexpr char alphabet[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    std::string out(6, '0');
    for (int i = 5; i >= 0 && v; --i) { out[static_cast<size_t>(i)] = alphabet[v % 62]; v /= 62; }
    return out;
}

bool github_crc32(std::string_view s) {
    const auto us = s.find('_');
    if (us == std::string_view::npos) return false;
    const std::string_view body = s.substr(us + 1);
    if (body.size() != 36) return false;
    return base62_6(crc32(body.substr(0, 30))) == body.substr(30);
}

bool x420_checksum(std::string_view s) {
    if (s.size() < 7) return false;
    return base62_6(crc32(s.substr(0, s.size() - 6))) == s.substr(s.size() - 6);
}

std::optional<std::string> b64url_decode(std::string_view in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-' || c == '+') return 62;
        if (c == '_' || c == '/') return 63;
        return -1;
    };
    std::string out;
    uint32_t acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        const int v = val(c);
        if (v < 0) return std::nullopt;
        acc = (acc << 6) | static_cast<uint32_t>(v);
        bits += 6;
        if (bits >= 8) { bits -= 8; out += static_cast<char>((acc >> bits) & 0xFF); }
    }
    return out;
}

bool jwt(std::string_view s) {
    const auto d1 = s.find('.');
    if (d1 == std::string_view::npos) return false;
    const auto d2 = s.find('.', d1 + 1);
    if (d2 == std::string_view::npos) return false;
    const auto header = b64url_decode(s.substr(0, d1));
    const auto payload = b64url_decode(s.substr(d1 + 1, d2 - d1 - 1));
    if (!header || !payload) return false;
    auto is_obj = [](const std::string& j) {
        size_t i = 0;
        while (i < j.size() && std::isspace(static_cast<unsigned char>(j[i]))) ++i;
        return i < j.size() && j[i] == '{' && j.find('}') != std::string::npos;
    };
    return is_obj(*header) && is_obj(*payload) && header->find("\"alg\"") != std::string::npos;
}

bool is_checksum_validator(const std::string& name) { return name == "github_crc32" || name == "x420_checksum"; }

bool run_validator(const std::string& name, std::string_view span) {
    if (name == "luhn") return luhn(span);
    if (name == "iban_mod97") return iban_mod97(span);
    if (name == "github_crc32") return github_crc32(span);
    if (name == "x420_checksum") return x420_checksum(span);
    if (name == "jwt") return jwt(span);
    return true;
}

// ---------------------------------------------------------------- regex subset check

// Scans a pattern (without the leading (?i)) for constructs vectorscan rejects or that we
// do not allow. Returns an error message or empty. Adds warnings for unbounded repeats.
std::string check_subset(const Rule& r) {
    const std::string& p = r.body;
    bool in_class = false;
    size_t class_start = 0;
    int unbounded = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        const char c = p[i];
        if (c == '\\') {
            if (i + 1 >= p.size()) return "trailing backslash";
            const char n = p[i + 1];
            if (!in_class && n >= '1' && n <= '9') return "backreference \\" + std::string(1, n);
            if (!in_class && (n == 'k' || n == 'g')) return "named/relative backreference";
            if (n == 'Q' || n == 'E') return "\\Q...\\E quoting not allowed";
            ++i;
            continue;
        }
        if (in_class) {
            if (c == ']' && i > class_start) in_class = false;
            continue;
        }
        if (c == '[') {
            in_class = true;
            class_start = i + 1;
            if (class_start < p.size() && p[class_start] == '^') ++class_start;
            // a ']' right after '[' or '[^' is a literal
            continue;
        }
        if (c == '(' && i + 1 < p.size() && p[i + 1] == '?') {
            if (i + 2 < p.size() && p[i + 2] == ':') continue;
            return "group construct '(?" + std::string(1, i + 2 < p.size() ? p[i + 2] : ' ') +
                   "' (lookaround, atomic, named or inline flags) at offset " + std::to_string(i);
        }
        if (c == '*' || c == '+' || c == '?' || c == '}') {
            if (c == '*' || c == '+') ++unbounded;
            if (c == '}') {
                // {n,} is unbounded
                const auto open = p.rfind('{', i);
                if (open != std::string::npos && i >= 1 && p[i - 1] == ',') ++unbounded;
                (void)open;
            }
            if (i + 1 < p.size() && p[i + 1] == '+') {
                // a quantifier directly followed by '+' is possessive ("a++", "a{2}+")
                if (c != '?' || (i >= 1 && p[i - 1] != '(')) return "possessive quantifier at offset " + std::to_string(i);
            }
        }
    }
    if (in_class) return "unterminated character class";
    if (unbounded) warn(r.id, std::to_string(unbounded) + " unbounded quantifier(s); prefer {m,n}");
    return {};
}

// ---------------------------------------------------------------- matching

struct ScanCtx {
    bool matched = false;
};

int on_match(unsigned int, unsigned long long, unsigned long long, unsigned int, void* ctx) {
    static_cast<ScanCtx*>(ctx)->matched = true;
    return 1;  // stop scanning
}

struct Verdict {
    bool hs = false;           // vectorscan found a match
    bool confirmed = false;    // std::regex found a match
    bool accepted = false;     // a confirmed match passed min_len / entropy / validator
    bool keyword_ok = false;   // the accepted match contains a keyword
    bool bad_checksum = false; // accepted, but a vendor checksum validator failed
    std::string reason;        // why the last confirmed match was rejected
    std::string span;          // secret span of the accepted (or last) match
};

Verdict evaluate(const Rule& r, const std::string& text, hs_scratch_t* scratch) {
    Verdict v;
    ScanCtx ctx;
    const hs_error_t err = hs_scan(r.db, text.data(), static_cast<unsigned int>(text.size()), 0, scratch,
                                   on_match, &ctx);
    if (err != HS_SUCCESS && err != HS_SCAN_TERMINATED) {
        v.reason = "hs_scan error " + std::to_string(err);
        return v;
    }
    v.hs = ctx.matched;
    if (!r.re) return v;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), *r.re); it != std::sregex_iterator(); ++it) {
        const std::smatch& m = *it;
        v.confirmed = true;
        const size_t g = static_cast<size_t>(r.secret_group);
        if (g >= m.size() || !m[g].matched) { v.reason = "secret_group did not participate"; continue; }
        const std::string span = m[g].str();
        v.span = span;
        if (r.min_len && static_cast<int64_t>(span.size()) < *r.min_len) {
            v.reason = "shorter than min_len (" + std::to_string(span.size()) + ")";
            continue;
        }
        if (r.entropy_min) {
            const double h = shannon(span);
            if (h < *r.entropy_min) {
                char buf[64];
                std::snprintf(buf, sizeof buf, "entropy %.2f < %.2f", h, *r.entropy_min);
                v.reason = buf;
                continue;
            }
        }
        if (r.entropy_min && !g_stopwords.empty()) {
            const std::string l = lower(span);
            bool hit = false;
            for (const auto& w : g_stopwords) hit = hit || l.find(w) != std::string::npos;
            if (hit) { v.reason = "allowlist stopword"; continue; }
        }
        if (g_allow_values.count(span)) { v.reason = "allowlist value"; continue; }
        const bool valid = run_validator(r.validator, span);
        if (!valid && !is_checksum_validator(r.validator)) {
            v.reason = "validator " + r.validator + " rejected";
            continue;
        }
        v.bad_checksum = !valid;
        v.accepted = true;
        const std::string whole = lower(m[0].str());
        for (const auto& k : r.keywords)
            if (whole.find(k) != std::string::npos) { v.keyword_ok = true; break; }
        break;
    }
    return v;
}

// ---------------------------------------------------------------- loading

const std::set<std::string> kKnownKeys = {"id", "description", "severity", "keywords", "regex", "secret_group",
                                          "validator", "entropy_min", "min_len", "examples", "negative_examples"};
const std::set<std::string> kSeverities = {"critical", "high", "medium", "low"};
const std::set<std::string> kValidators = {"luhn", "iban_mod97", "github_crc32", "x420_checksum", "jwt", "none"};

bool string_array(const toml::table& t, const char* key, std::vector<std::string>& out, const std::string& id) {
    const toml::array* a = t[key].as_array();
    if (!a) { fail(id, std::string("missing array '") + key + "'"); return false; }
    for (const auto& el : *a) {
        const auto s = el.value<std::string>();
        if (!s) { fail(id, std::string("'") + key + "' must hold only strings"); return false; }
        out.push_back(*s);
    }
    if (out.empty()) { fail(id, std::string("'") + key + "' is empty"); return false; }
    return true;
}

bool valid_id(const std::string& id) {
    static const std::regex re("^[a-z0-9]+(?:_[a-z0-9]+)*(?:\\.[a-z0-9]+(?:_[a-z0-9]+)*)+$");
    return std::regex_match(id, re);
}

std::optional<Rule> load_rule(const toml::table& t, size_t index) {
    Rule r;
    const auto id = t["id"].value<std::string>();
    r.id = id ? *id : "rule#" + std::to_string(index);
    bool ok = true;
    if (!id) { fail(r.id, "missing string 'id'"); ok = false; }
    else if (!valid_id(*id)) { fail(r.id, "id must be lowercase dotted ([a-z0-9_] segments joined by '.')"); ok = false; }
    for (const auto& [k, _] : t)
        if (!kKnownKeys.count(std::string(k.str()))) { fail(r.id, "unknown field '" + std::string(k.str()) + "'"); ok = false; }
    if (auto d = t["description"].value<std::string>(); d && !d->empty()) r.description = *d;
    else { fail(r.id, "missing 'description'"); ok = false; }
    if (auto s = t["severity"].value<std::string>(); s && kSeverities.count(*s)) r.severity = *s;
    else { fail(r.id, "severity must be critical|high|medium|low"); ok = false; }
    if (string_array(t, "keywords", r.keywords, r.id)) {
        for (const auto& k : r.keywords)
            if (k.empty() || k.size() > 32 || lower(k) != k) { fail(r.id, "keyword '" + k + "' must be short lowercase"); ok = false; }
    } else ok = false;
    if (auto re = t["regex"].value<std::string>(); re && !re->empty()) r.regex = *re;
    else { fail(r.id, "missing 'regex'"); ok = false; }
    if (t.contains("secret_group")) {
        auto g = t["secret_group"].value<int64_t>();
        if (!t["secret_group"].is_integer() || !g || *g < 0 || *g > 9) { fail(r.id, "secret_group must be an integer 0..9"); ok = false; }
        else r.secret_group = static_cast<int>(*g);
    }
    if (t.contains("validator")) {
        auto v = t["validator"].value<std::string>();
        if (!v || !kValidators.count(*v)) { fail(r.id, "unknown validator"); ok = false; }
        else r.validator = *v;
    }
    if (t.contains("entropy_min")) {
        auto e = t["entropy_min"].value<double>();
        if (!e || *e < 0 || *e > 8) { fail(r.id, "entropy_min must be a number in [0, 8]"); ok = false; }
        else r.entropy_min = *e;
    }
    if (t.contains("min_len")) {
        auto m = t["min_len"].value<int64_t>();
        if (!t["min_len"].is_integer() || !m || *m < 1) { fail(r.id, "min_len must be a positive integer"); ok = false; }
        else r.min_len = *m;
    }
    if (!string_array(t, "examples", r.examples, r.id)) ok = false;
    if (!string_array(t, "negative_examples", r.negatives, r.id)) ok = false;
    if (!ok) return std::nullopt;
    return r;
}

// ---------------------------------------------------------------- dev modes: --bench and --scan

struct MultiHit {
    unsigned id;
    unsigned long long to;
};

int collect(unsigned int id, unsigned long long, unsigned long long to, unsigned int, void* ctx) {
    auto* v = static_cast<std::vector<MultiHit>*>(ctx);
    if (v->size() < 1000000) v->push_back({id, to});
    return 0;
}

// Throughput of the whole prefilter database over synthetic, source-like text.
void bench(const hs_database_t* db, hs_scratch_t* scratch, size_t mib) {
    static const char* words[] = {"const", "int", "return", "if", "else", "for", "while", "value", "name", "config",
                                  "password", "token", "key", "secret", "user", "http://", "https://", "data", "=",
                                  ":", "\"", "'", "(", ")", "{", "}", ";", ",", ".", "\n", "  ", "0x1f", "42",
                                  "README", "TODO", "api", "auth", "Bearer", "eyJ", "sk-", "AKIA", "ghp_", "-----"};
    std::string text;
    text.reserve(mib << 20);
    uint64_t x = 88172645463325252ull;
    while (text.size() < (mib << 20)) {
        x ^= x << 13; x ^= x >> 7; x ^= x << 17;
        if (x % 7 == 0) {  // random-looking identifier
            for (int k = 0; k < static_cast<int>(x % 24); ++k)
                text += "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[(x >> (k % 50)) % 62];
        } else {
            text += words[x % (sizeof words / sizeof *words)];
        }
        text += ' ';
    }
    std::vector<MultiHit> hits;
    const auto t0 = std::chrono::steady_clock::now();
    hs_scan(db, text.data(), static_cast<unsigned int>(text.size()), 0, scratch, collect, &hits);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("bench: %zu MiB in %.3f s = %.1f MiB/s, %zu raw prefilter hits\n", mib, s,
                static_cast<double>(mib) / s, hits.size());
}

// Run the full pipeline (prefilter + confirm) over files and print findings: a quick way
// to look for false positives in text known to be clean.
void scan(const std::vector<Rule>& rules, const hs_database_t* db, hs_scratch_t* scratch,
          const std::vector<std::string>& files) {
    std::map<std::string, int> per_rule;
    for (const auto& f : files) {
        std::FILE* fp = std::fopen(f.c_str(), "rb");
        if (!fp) continue;
        std::string text;
        char buf[65536];
        size_t n;
        while ((n = std::fread(buf, 1, sizeof buf, fp)) > 0 && text.size() < (64u << 20)) text.append(buf, n);
        std::fclose(fp);
        std::vector<MultiHit> hits;
        hs_scan(db, text.data(), static_cast<unsigned int>(text.size()), 0, scratch, collect, &hits);
        std::set<std::pair<unsigned, size_t>> seen;  // (rule, line start)
        for (const auto& h : hits) {
            const Rule& r = rules[h.id];
            if (!r.re) continue;
            const size_t to = static_cast<size_t>(h.to);
            const size_t line_start = text.rfind('\n', to ? to - 1 : 0) == std::string::npos ? 0 : text.rfind('\n', to ? to - 1 : 0) + 1;
            if (!seen.insert({h.id, line_start}).second) continue;
            const size_t from = to > 4096 ? to - 4096 : 0;
            const size_t end = std::min(text.size(), to + 1);
            const std::string window = text.substr(from, end - from);
            for (auto it = std::sregex_iterator(window.begin(), window.end(), *r.re); it != std::sregex_iterator(); ++it) {
                const std::smatch& m = *it;
                const size_t g = static_cast<size_t>(r.secret_group);
                if (g >= m.size() || !m[g].matched) continue;
                const std::string span = m[g].str();
                if (r.min_len && static_cast<int64_t>(span.size()) < *r.min_len) continue;
                if (r.entropy_min && shannon(span) < *r.entropy_min) continue;
                if (!run_validator(r.validator, span) && !is_checksum_validator(r.validator)) continue;
                const size_t abs = from + static_cast<size_t>(m.position(0));
                const long line = 1 + std::count(text.begin(), text.begin() + static_cast<long>(abs), '\n');
                std::cout << "find " << r.id << " " << f << ":" << line << ": " << printable(m[0].str(), 100) << "\n";
                ++per_rule[r.id];
                break;
            }
        }
    }
    for (const auto& [id, n] : per_rule) std::cout << "scan " << id << ": " << n << "\n";
}

}  // namespace

int main(int argc, char** argv) {
    std::string path = "lib/detect/rules/builtin.toml";
    std::vector<std::string> scan_files;
    long bench_mib = 0;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "-v") g_verbose = true;
        else if (a == "--bench" && i + 1 < argc) bench_mib = std::stol(argv[++i]);
        else if (a == "--scan") {
            // FILE arguments; "@LIST" reads one path per line from LIST
            while (i + 1 < argc) {
                const std::string f = argv[++i];
                if (f.size() > 1 && f[0] == '@') {
                    std::FILE* lf = std::fopen(f.c_str() + 1, "r");
                    if (!lf) { std::cout << "cannot open " << f.substr(1) << "\n"; return 2; }
                    char line[4096];
                    while (std::fgets(line, sizeof line, lf)) {
                        std::string p(line);
                        while (!p.empty() && (p.back() == '\n' || p.back() == '\r')) p.pop_back();
                        if (!p.empty()) scan_files.push_back(p);
                    }
                    std::fclose(lf);
                } else {
                    scan_files.push_back(f);
                }
            }
        }
        else if (a == "-h" || a == "--help") {
            std::cout << "usage: check_rules [RULES.toml] [-v] [--bench MIB] [--scan FILE|@LIST...]\n";
            return 0;
        }
        else path = a;
    }

    toml::table doc;
    try {
        doc = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
        std::cout << "FAIL " << path << ": " << e.description() << " at line " << e.source().begin.line << "\n";
        std::cout << "0 rules, 0 examples ok, 1 failures\n";
        return 1;
    }
    for (const auto& [k, node] : doc) {
        if (k.str() == "rule") continue;
        if (k.str() != "allowlist" || !node.is_table()) {
            fail("<file>", "unexpected top-level key '" + std::string(k.str()) + "' (expected [[rule]] or [allowlist])");
            continue;
        }
        for (const auto& [ak, av] : *node.as_table()) {
            static const std::set<std::string> known = {"stopwords", "regexes", "values", "paths", "fingerprints"};
            const std::string key(ak.str());
            if (!known.count(key)) { fail("<allowlist>", "unknown field '" + key + "'"); continue; }
            const toml::array* arr = av.as_array();
            if (!arr) { fail("<allowlist>", "'" + key + "' must be an array of strings"); continue; }
            for (const auto& el : *arr) {
                const auto str = el.value<std::string>();
                if (!str) { fail("<allowlist>", "'" + key + "' must hold only strings"); continue; }
                if (key == "stopwords") g_stopwords.push_back(lower(*str));
                if (key == "values") g_allow_values.insert(*str);
            }
        }
    }
    const toml::array* rules_arr = doc["rule"].as_array();
    if (!rules_arr) {
        std::cout << "FAIL " << path << ": no [[rule]] tables\n0 rules, 0 examples ok, 1 failures\n";
        return 1;
    }

    std::vector<Rule> rules;
    std::set<std::string> ids;
    hs_database_t* multi_db = nullptr;
    size_t index = 0;
    for (const auto& node : *rules_arr) {
        ++index;
        const toml::table* t = node.as_table();
        if (!t) { fail("rule#" + std::to_string(index), "not a table"); continue; }
        auto r = load_rule(*t, index);
        if (!r) continue;
        if (!ids.insert(r->id).second) { fail(r->id, "duplicate id"); continue; }
        rules.push_back(std::move(*r));
    }

    // Compile each pattern.
    hs_scratch_t* scratch = nullptr;
    for (auto& r : rules) {
        r.body = r.regex;
        if (r.body.rfind("(?i)", 0) == 0) { r.caseless = true; r.body = r.body.substr(4); }
        if (const auto e = check_subset(r); !e.empty()) { fail(r.id, "regex: " + e); continue; }
        hs_compile_error_t* cerr = nullptr;
        const unsigned flags = r.caseless ? HS_FLAG_CASELESS : 0;
        const auto tc0 = std::chrono::steady_clock::now();
        const hs_error_t ce = hs_compile(r.body.c_str(), flags, HS_MODE_BLOCK, nullptr, &r.db, &cerr);
        const double tc = std::chrono::duration<double>(std::chrono::steady_clock::now() - tc0).count();
        if (g_verbose) std::printf("time %s: hs_compile %.0f ms\n", r.id.c_str(), tc * 1000);
        if (ce != HS_SUCCESS) {
            fail(r.id, std::string("hs_compile: ") + (cerr && cerr->message ? cerr->message : "?"));
            hs_free_compile_error(cerr);
            r.db = nullptr;
            continue;
        }
        if (hs_alloc_scratch(r.db, &scratch) != HS_SUCCESS) { fail(r.id, "hs_alloc_scratch failed"); continue; }
        {
            // Informational: will the engine be able to ask for start-of-match offsets?
            hs_database_t* som_db = nullptr;
            hs_compile_error_t* som_err = nullptr;
            if (hs_compile(r.body.c_str(), flags | HS_FLAG_SOM_LEFTMOST, HS_MODE_BLOCK,
                           nullptr, &som_db, &som_err) != HS_SUCCESS) {
                g_no_som.push_back(r.id);
                if (g_verbose)
                    std::cout << "note " << r.id << ": no HS_FLAG_SOM_LEFTMOST ("
                              << (som_err && som_err->message ? som_err->message : "?") << ")\n";
                hs_free_compile_error(som_err);
            } else {
                hs_free_database(som_db);
            }
        }
        try {
            auto f = std::regex::ECMAScript | std::regex::optimize;
            if (r.caseless) f |= std::regex::icase;
            const auto t0 = std::chrono::steady_clock::now();
            r.re.emplace(r.body, f);
            const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (g_verbose && dt > 0.2) std::printf("note %s: std::regex construction took %.1f s\n", r.id.c_str(), dt);
            if (r.secret_group > static_cast<int>(r.re->mark_count()))
                fail(r.id, "secret_group " + std::to_string(r.secret_group) + " > number of groups " +
                               std::to_string(r.re->mark_count()));
        } catch (const std::regex_error& e) {
            fail(r.id, std::string("std::regex (confirm step) rejects pattern: ") + e.what());
        }
    }

    // The engine compiles everything into one database: make sure that works too.
    {
        std::vector<const char*> exprs;
        std::vector<unsigned> flags, idsv, som_flags;
        for (size_t i = 0; i < rules.size(); ++i) {
            if (!rules[i].db) continue;
            exprs.push_back(rules[i].body.c_str());
            flags.push_back(rules[i].caseless ? HS_FLAG_CASELESS : 0u);
            som_flags.push_back(flags.back() | HS_FLAG_SOM_LEFTMOST);
            idsv.push_back(static_cast<unsigned>(i));
        }
        for (int som = 0; som < 2 && !exprs.empty(); ++som) {
            hs_database_t* db = nullptr;
            hs_compile_error_t* cerr = nullptr;
            const auto& fl = som ? som_flags : flags;
            const unsigned mode = HS_MODE_BLOCK;
            const auto t0 = std::chrono::steady_clock::now();
            const hs_error_t e = hs_compile_multi(exprs.data(), fl.data(), idsv.data(),
                                                  static_cast<unsigned>(exprs.size()), mode, nullptr, &db, &cerr);
            const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            if (e == HS_SUCCESS) {
                size_t sz = 0;
                hs_database_size(db, &sz);
                std::cout << "multi-pattern database" << (som ? " (SOM_LEFTMOST)" : "") << ": " << exprs.size()
                          << " patterns, " << sz / 1024 << " KiB, compiled in "
                          << static_cast<int>(dt * 1000) << " ms\n";
                if (!som && !multi_db) multi_db = db;
                else hs_free_database(db);
            } else {
                const std::string where = cerr && cerr->expression >= 0
                                              ? rules[idsv[static_cast<size_t>(cerr->expression)]].id
                                              : std::string("<set>");
                const std::string msg = cerr && cerr->message ? cerr->message : "?";
                if (som) std::cout << "note: the set does not compile with HS_FLAG_SOM_LEFTMOST (" << where << ": " << msg
                                   << "); spans must come from the confirm step\n";
                else fail(where, "multi-pattern compile: " + msg);
                hs_free_compile_error(cerr);
            }
        }
    }

    if (multi_db && hs_alloc_scratch(multi_db, &scratch) != HS_SUCCESS) fail("<set>", "hs_alloc_scratch failed");
    if (multi_db && bench_mib > 0) bench(multi_db, scratch, static_cast<size_t>(bench_mib));
    if (multi_db && !scan_files.empty()) scan(rules, multi_db, scratch, scan_files);

    int examples_ok = 0;
    for (const auto& r : rules) {
        if (!r.db) continue;
        for (const auto& ex : r.examples) {
            const Verdict v = evaluate(r, ex, scratch);
            if (!v.hs) fail(r.id, "example does not match (vectorscan): " + printable(ex));
            else if (r.re && !v.confirmed) fail(r.id, "example matched by vectorscan but not by std::regex: " + printable(ex));
            else if (r.re && !v.accepted) fail(r.id, "example rejected (" + v.reason + "): " + printable(ex));
            else if (r.re && !v.keyword_ok) fail(r.id, "no keyword occurs in the match of: " + printable(ex));
            else if (v.bad_checksum) fail(r.id, "example has a bad " + r.validator + " checksum: " + printable(ex));
            else {
                ++examples_ok;
                if (g_verbose) std::cout << "ok   " << r.id << " + " << printable(v.span, 60) << "\n";
            }
        }
        for (const auto& ex : r.negatives) {
            const Verdict v = evaluate(r, ex, scratch);
            if (v.accepted)
                fail(r.id, std::string("negative example produces a finding") +
                               (v.bad_checksum ? " (a bad checksum only lowers confidence)" : "") + ": " + printable(ex));
            else if (!r.re && v.hs) fail(r.id, "negative example matches: " + printable(ex));
            else {
                ++examples_ok;
                if (g_verbose)
                    std::cout << "ok   " << r.id << " - " << printable(ex, 60)
                              << (v.hs ? " (regex matched; " + v.reason + ")" : "") << "\n";
                if (v.hs != v.confirmed)
                    warn(r.id, std::string("vectorscan and std::regex disagree on negative: ") + printable(ex));
            }
        }
    }

    for (auto& r : rules)
        if (r.db) hs_free_database(r.db);
    if (multi_db) hs_free_database(multi_db);
    hs_free_scratch(scratch);

    std::map<std::string, int> by_family;
    for (const auto& r : rules) ++by_family[r.id.substr(0, r.id.find('.'))];
    if (g_verbose) {
        std::cout << "families:";
        for (const auto& [f, n] : by_family) std::cout << ' ' << f << '=' << n;
        std::cout << "\n";
    }
    if (!g_no_som.empty())
        std::cout << "note: " << g_no_som.size() << " patterns are too large for HS_FLAG_SOM_LEFTMOST (-v lists them)\n";
    if (g_warnings) std::cout << g_warnings << " warnings\n";
    std::cout << rules.size() << " rules, " << examples_ok << " examples ok, " << g_failures << " failures\n";
    return g_failures == 0 ? 0 : 1;
}
