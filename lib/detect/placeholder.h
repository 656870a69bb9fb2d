// Values shaped like a secret that no one would use as one: what documentation, templates and
// tests put where a key goes. A rule's regex sees the shape; this sees that the value is made,
// not drawn at random, whatever rule matched it.
#pragma once

#include <string_view>

namespace x420::detect {

// True for a value that is
//  - mostly one character repeated (`AIzaaaaaaaaa…`, `xxxxxxxx`, `4111111111111111`);
//  - a run along the alphabet, the digits or a keyboard row (`abcdefgh`, `12345678`,
//    `qwertyui`), or mostly made of such runs (`…abcdefghijklmnopqrstuvwxyz1234567`);
//  - a template: `<…>`, `${…}`, `{{…}}`, `%…%`, `$(…)`, or `your…here` / `your_…_key` forms;
//  - marked as one: it holds EXAMPLE, sample, dummy, placeholder, changeme, redacted, xxxx ….
// Random text of any alphabet and length this engine reports is almost never any of these (a
// run of 8 along a 62-letter alphabet: about 1 in 10^12 per position).
bool looks_like_placeholder(std::string_view value);

}  // namespace x420::detect
