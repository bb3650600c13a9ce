// DefaultInitVector<T>: a std::vector whose resize() default-initialises the
// new elements instead of value-initialising them, so for trivial types (char,
// float, double) growing a buffer that is about to be overwritten neither
// writes zeros nor touches its pages before the real writer does.
//
// Elements added by resize(n) hold indeterminate values: use it only for
// buffers whose every element read is written first. resize(n, value),
// assign, insert and push_back behave as in std::vector.
#pragma once

#include <memory>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace fb {

template <class T>
class DefaultInitAllocator : public std::allocator<T> {
 public:
  template <class U>
  struct rebind {
    using other = DefaultInitAllocator<U>;
  };
  DefaultInitAllocator() noexcept = default;
  template <class U>
  DefaultInitAllocator(const DefaultInitAllocator<U>&) noexcept {}

  // Without arguments: default-initialise (a no-op for trivial types).
  template <class U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <class U, class... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
};

template <class T>
using DefaultInitVector = std::vector<T, DefaultInitAllocator<T>>;

}  // namespace fb
