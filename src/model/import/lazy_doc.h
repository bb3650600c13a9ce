// A JSON text or a UBJSON document read in one pass into a compact tree
// whose arrays of numbers stay unconverted (XGBoost's model loads).
//
// An XGBoost model is mostly arrays of numbers, and more than half of them
// (base_weights, loss_changes, sum_hessian, parents) are never read: a full
// parser (simdjson's DOM, nlohmann::json's tree) converts and stores every
// one. This reader keeps an array whose elements look like numbers as its
// place in the input and its count (JSON: up to the first ']', counting
// commas); the numbers are checked and converted in one pass when the array
// is read, and CheckUnread checks the arrays nobody read (syntax only, no
// conversion). A document is taken only once both passed: every byte is then
// checked as strictly as the full parsers check it.
//
// It takes a subset of what the full parsers take: whatever it is not sure
// of (a number with more than 19 digits or an exponent beyond 280, nesting
// deeper than 32, a document of 4 GiB or more, UBJSON's no-op 'N' or
// zero-byte typed containers, a JSON array that starts like numbers but
// holds anything else, ...) makes ReadJson / ReadUbjson, ForEachElement or
// CheckUnread return false, and the caller then parses the document in full,
// which says what is wrong, if anything. So a document it takes, the full
// parser takes too, with the same values; a document it refuses costs its
// try (usually far less than the full parse) and the full parse.
//
// JSON: RFC 8259, plus the bare NaN, Infinity and -Infinity tokens XGBoost
// writes, read as the strings "NaN", "Infinity", "-Infinity" (as the full
// path reads them after quoting them). Strings with escapes or non-ASCII
// bytes are checked and unescaped by simdjson itself. Of repeated keys the
// first counts (simdjson's DOM). UBJSON: Draft 12 as ubjson_reader.h takes
// it; of repeated keys the last counts (nlohmann::json).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace fb {

class LazyDoc {
 public:
  enum class Kind : uint8_t { kNull, kBool, kInt, kDouble, kString, kArray, kObject, kNumbers };

  // One value. kNumbers: an array of numbers still in the input (JSON:
  // `type` 0, `at` the offset of the first byte after '['; UBJSON: `type`
  // the elements' marker, `at` the offset of the first element's bytes).
  struct Node {
    Kind kind = Kind::kNull;
    char type = 0;
    uint32_t count = 0;  // kArray, kObject, kNumbers: elements; kString: bytes
    union {
      int64_t i;       // kInt; kBool: 0 or 1
      double d;        // kDouble
      const char* s;   // kString
      uint32_t first;  // kArray: first index into elements_; kObject: into members_
      size_t at;       // kNumbers
    };
    Node() : i(0) {}
    std::string_view String() const { return std::string_view(s, count); }
  };

  struct Member {
    std::string_view key;
    uint32_t node;
  };

  LazyDoc();
  ~LazyDoc();
  LazyDoc(const LazyDoc&) = delete;
  LazyDoc& operator=(const LazyDoc&) = delete;

  // Reads a document that must span all of `bytes`, which must outlive this
  // (strings and arrays of numbers point into it). False: not taken (see
  // above); the document is then empty.
  bool ReadJson(std::string_view text);
  bool ReadUbjson(std::string_view bytes);

  const Node& root() const { return nodes_[0]; }
  bool is_ubjson() const { return ubjson_; }

  // The member `key` of an object (repeated keys: as above); nullptr when absent.
  const Node* Find(const Node& object, std::string_view key) const;

  // f(element) for each element of an array (kArray or kNumbers), in order,
  // until f returns false. False when f did, or when an element of a JSON
  // kNumbers is not a number this reader takes (the document is then not
  // taken: see CheckUnread). f sees only elements that passed.
  template <class F>
  bool ForEachElement(const Node& array, F&& f) const {
    if (array.kind == Kind::kArray) {
      for (uint32_t k = 0; k < array.count; ++k)
        if (!f(nodes_[elements_[array.first + k]])) return false;
      return true;
    }
    if (array.kind != Kind::kNumbers) return true;
    Node e;
    if (ubjson_) {
      for (uint32_t k = 0; k < array.count; ++k) {
        UbjsonElement(array, k, &e);
        if (!f(e)) return false;
      }
      return true;
    }
    const char* p = base_ + array.at;
    for (uint32_t k = 0; k < array.count; ++k) {
      p = JsonElement(p, &e);
      if (p == nullptr || *p != (k + 1 < array.count ? ',' : ']')) return false;
      ++p;
      if (!f(e)) return false;
    }
    checked_.push_back(array.at);
    return true;
  }

  // Whether every JSON array of numbers that ForEachElement did not read to
  // its end holds numbers this reader takes, as many as counted. A JSON
  // document is taken only when this holds after its conversion.
  bool CheckUnread() const;

 private:
  friend class LazyJsonReader;
  friend class LazyUbjsonReader;

  void Clear();
  // The k-th element of a UBJSON array of numbers.
  void UbjsonElement(const Node& array, uint32_t k, Node* out) const;
  // The JSON array element at p (white space, the token, white space),
  // checked and converted: the position of the ',' or ']' after it, or
  // nullptr.
  const char* JsonElement(const char* p, Node* out) const;

  const char* base_ = nullptr;
  const char* end_ = nullptr;
  bool ubjson_ = false;
  std::vector<Node> nodes_;
  std::vector<uint32_t> elements_;
  std::vector<Member> members_;
  std::deque<std::string> unescaped_;    // strings with escapes, unescaped (addresses never move)
  mutable std::vector<size_t> checked_;  // JSON kNumbers read to the end by ForEachElement (their `at`)
};

namespace internal {
// The check CheckUnread makes of a JSON array of numbers whose elements
// start at p (after its '['; its ']' is before `end`), of `count` elements:
// NumbersValidScalar, element by element as the converter reads them; and
// NumbersSurelyValid, 64 bytes at a time (SSE2), which is sure only of what
// the scalar check takes (never true where it is false), but may leave
// rarer spellings to it (false: not sure). Exposed for tests.
bool NumbersValidScalar(const char* p, const char* end, uint32_t count);
bool NumbersSurelyValid(const char* p, const char* end, uint32_t count);
}  // namespace internal

}  // namespace fb
