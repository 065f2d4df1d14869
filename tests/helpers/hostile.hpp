#pragma once
// The hostile output written by `fixtures_helper hostile`, shared with the test that checks it
// arrives byte for byte.
#include <string>

namespace fixtures_test {

inline std::string HostileStdout() {
  std::string s;
  s += "plain line\n";
  s += std::string("invalid utf-8: \xC3\x28 \xFF\xFE \xED\xA0\x80 end\n");
  s += std::string("nul:\0:inside\n", 13);
  s += "carriage\rreturn\r\n";
  s += "\n";  // an empty line
  std::string big(4u << 20, 'x');
  for (std::size_t i = 0; i < big.size(); i += 4093) big[i] = static_cast<char>('a' + i % 26);
  s += big + "\n";
  s += "]]></testcase>\x01\x1b[31m\n";
  s += "last line without newline";
  return s;
}

inline std::string HostileStderr() {
  return std::string("err \x80\x81\n\0\0\n", 9) + "tail without newline \xF0\x9F\x98";
}

// Bytes that break XML reports when copied as they are: CDATA's end, markup, entities, control
// characters, non-characters, invalid and overlong UTF-8.
inline std::string HostileXml() {
  return std::string("xml: ]]> </testcase> <![CDATA[ &amp; &#0; \" ' \x0B\x0C\x7F \xEF\xBF\xBE \xEF\xBF\xBF "
                     "\xC0\xAF \xFF nul:\0:end\n", 73);
}

}  // namespace fixtures_test
