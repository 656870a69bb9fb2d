#include "proxy/routing.h"

#include <fnmatch.h>

namespace x420::proxy {

Result<Route> choose_upstream(const std::vector<store::UpstreamRow>& upstreams,
                              std::string_view kind, std::string_view model) {
  if (model.empty()) return make_error(ErrorKind::usage, "the request has no model");
  if (const auto slash = model.find('/'); slash != std::string_view::npos) {
    const auto name = model.substr(0, slash);
    for (const auto& u : upstreams)
      if (u.name == name) {
        if (u.kind != kind)
          return make_error(ErrorKind::usage, "upstream " + u.name + " speaks the " + u.kind +
                                                  " API, not the one of this endpoint");
        return Route{&u, std::string(model.substr(slash + 1)), true};
      }
  }
  const std::string m(model);
  for (const auto& u : upstreams) {
    if (u.kind != kind) continue;
    for (const auto& glob : u.models)
      if (::fnmatch(glob.c_str(), m.c_str(), 0) == 0) return Route{&u, m, false};
  }
  return make_error(ErrorKind::not_found,
                    "no upstream serves model '" + m.substr(0, 100) +
                        "' (name one as upstream/model, or add --models globs to an upstream)");
}

}  // namespace x420::proxy
