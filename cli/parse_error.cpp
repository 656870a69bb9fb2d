#include "cli/parse_error.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <map>
#include <regex>

#include "lib/common/edit_distance.h"

namespace x420::cli {
namespace {

// A word the user typed may be repeated in an error only if it reads as a command name (a short
// run of lowercase letters and dashes) or is a typo of one: anything else may be a value given
// in the wrong place.
bool reads_as_command_word(std::string_view word) {
  return !word.empty() && word.size() <= 16 &&
         std::all_of(word.begin(), word.end(), [](char c) { return (c >= 'a' && c <= 'z') || c == '-'; });
}

// A flag's name, without a value after '=' (never repeated).
std::string flag_name(std::string_view token) {
  return std::string(token.substr(0, token.find('=')));
}

bool reads_as_flag_name(std::string_view name) {
  return name.size() >= 2 && name.size() <= 40 && name[0] == '-' &&
         std::all_of(name.begin() + 1, name.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-';
         });
}

std::string help_hint(const CLI::App& app) {
  const std::string path = command_path(app);
  return path == app.get_name() && !app.get_parent() ? "`x420 --help`"
                                                      : "`x420 help" + path.substr(path.find(' ')) + "`";
}

std::vector<std::string> subcommand_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; }))
    names.push_back(sub->get_name());
  return names;
}

// The option `name` ("--json", "-q") of `app` or of a command above it (options fall through).
const CLI::Option* find_flag(const CLI::App& app, const std::string& name) {
  for (const CLI::App* a = &app; a; a = a->get_parent())
    if (const CLI::Option* opt = a->get_option_no_throw(name); opt && opt->nonpositional()) return opt;
  return nullptr;
}

std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a; a = a->get_parent())
    for (const CLI::Option* opt : a->get_options()) {
      if (!opt->nonpositional()) continue;
      for (const auto& l : opt->get_lnames()) names.push_back("--" + l);
    }
  return names;
}

std::size_t positional_slots(const CLI::App& app) {
  std::size_t slots = 0;
  for (const CLI::Option* opt : app.get_options())
    if (!opt->nonpositional()) slots += static_cast<std::size_t>(std::max(0, opt->get_items_expected_max()));
  return slots;
}

std::string suggestion(const std::optional<std::string>& near) {
  return near ? " (did you mean '" + *near + "'?)" : "";
}

struct Walk {
  const CLI::App* app;                 // the deepest command the words name
  std::optional<std::string> problem;  // the first word that fits nowhere, explained
};

// Reads the command line as CLI11 would, as far as the commands, flags and positional slots go,
// to find the first word it could not place.
Walk walk(const CLI::App& root, const std::vector<std::string>& args) {
  const CLI::App* app = &root;
  std::size_t positionals = 0;
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& token = args[i];
    if (token == "--") break;
    if (token.size() > 1 && token[0] == '-') {
      const std::string name = flag_name(token);
      std::vector<const CLI::Option*> opts;
      if (name.size() > 2 && name[1] != '-') {  // -qv: short flags run together
        for (std::size_t k = 1; k < name.size(); ++k) opts.push_back(find_flag(*app, std::string("-") + name[k]));
      } else {
        opts.push_back(find_flag(*app, name));
      }
      if (std::find(opts.begin(), opts.end(), nullptr) != opts.end()) {
        const auto near = did_you_mean(name, flag_names(*app));
        const std::string shown = reads_as_flag_name(name) ? "'" + name + "'" : "";
        return {app, "unknown flag " + (shown.empty() ? std::string("given") : shown) + " for '" +
                         command_path(*app) + "'" + suggestion(near) + "; " + help_hint(*app) +
                         " lists its flags"};
      }
      const CLI::Option* last = opts.back();
      if (last->get_items_expected_max() > 0 && token.find('=') == std::string::npos) {
        ++i;  // its value
        if (last->get_items_expected_max() > 1)
          while (i + 1 < args.size() && !(args[i + 1].size() > 1 && args[i + 1][0] == '-')) ++i;
      }
      continue;
    }
    const auto subs = app->get_subcommands([&](const CLI::App* s) { return s->check_name(token); });
    if (!subs.empty()) {
      app = subs.front();
      positionals = 0;
      continue;
    }
    if (positionals < positional_slots(*app)) {
      ++positionals;
      continue;
    }
    const auto names = subcommand_names(*app);
    const auto near = did_you_mean(token, names);
    const bool shown = near || reads_as_command_word(token);
    if (!names.empty())
      return {app, "unknown command " + (shown ? "'" + token + "' " : std::string()) + "for '" +
                       command_path(*app) + "'" + suggestion(near) + "; " + help_hint(*app) +
                       " lists its commands"};
    return {app, "'" + command_path(*app) + "' takes no " + (positionals ? "more " : "") +
                     "arguments" + (shown ? " ('" + token + "' was given)" : "") + "; " +
                     help_hint(*app) + " shows its usage"};
  }
  return {app, std::nullopt};
}

// The first option name CLI11 put in its message, found among the options of `app` and above.
std::string option_named_in(const CLI::App& app, const std::string& message) {
  static const std::regex long_name("--[a-z][a-z0-9-]*");
  for (auto it = std::sregex_iterator(message.begin(), message.end(), long_name); it != std::sregex_iterator(); ++it)
    if (find_flag(app, it->str())) return it->str();
  for (const CLI::App* a = &app; a; a = a->get_parent())
    for (const CLI::Option* opt : a->get_options())
      if (!opt->nonpositional() && message.find(opt->get_name()) != std::string::npos) return opt->get_name();
  return {};
}

}  // namespace

std::optional<std::string> did_you_mean(std::string_view word, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  std::size_t best_distance = std::max<std::size_t>(2, word.size() / 3) + 1;
  for (const auto& c : candidates) {
    std::size_t d = edit_distance(word, c);
    if (word.size() >= 3 && c.rfind(word, 0) == 0) d = std::min<std::size_t>(d, 1);  // a prefix
    if (d < best_distance) best_distance = d, best = c;
  }
  return best;
}

std::string command_path(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a; a = a->get_parent()) names.push_back(a->get_name());
  std::string path;
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += (path.empty() ? "" : " ") + *it;
  return path;
}

bool wants_json(const std::vector<std::string>& args) {
  for (const auto& a : args) {
    if (a == "--") return false;
    if (a == "--json") return true;
  }
  return false;
}

Error explain_parse_error(const CLI::App& root, const std::vector<std::string>& args,
                          const CLI::ParseError& error) {
  const Walk w = walk(root, args);
  if (w.problem) return make_error(ErrorKind::usage, *w.problem);
  const CLI::App& app = *w.app;
  const std::string path = command_path(app);
  const std::string hint = "; " + help_hint(app) + " shows its usage";
  const std::string message = error.what();

  if (dynamic_cast<const CLI::ValidationError*>(&error)) {
    // Ours say "--rpm: must be …" (validators.h); CLI11's own would repeat the value.
    const auto must = message.find(": must ");
    if (must != std::string::npos) return make_error(ErrorKind::usage, message.substr(0, must) + message.substr(must + 1) + hint);
  }
  if (dynamic_cast<const CLI::ValidationError*>(&error) || dynamic_cast<const CLI::ConversionError*>(&error)) {
    const std::string name = option_named_in(app, message);
    return make_error(ErrorKind::usage,
                      (name.empty() ? "a value" : name) + " was not given a valid value" + hint);
  }
  if (dynamic_cast<const CLI::RequiredError*>(&error))
    return make_error(ErrorKind::usage, path + ": " + message + hint);
  if (dynamic_cast<const CLI::ArgumentMismatch*>(&error)) {
    const std::string name = option_named_in(app, message);
    return make_error(ErrorKind::usage,
                      path + ": " + (name.empty() ? "an option" : name) + " needs a value" + hint);
  }
  if (dynamic_cast<const CLI::ExcludesError*>(&error)) {
    std::string text = message;
    if (const auto at = text.find(" excludes "); at != std::string::npos)
      text.replace(at, 10, " cannot be used with ");
    return make_error(ErrorKind::usage, path + ": " + text + hint);
  }
  if (dynamic_cast<const CLI::RequiresError*>(&error))
    return make_error(ErrorKind::usage, path + ": " + message + hint);
  return make_error(ErrorKind::usage, "the command line for '" + path + "' could not be read" + hint);
}

}  // namespace x420::cli
