// MappedVector<T>: a DefaultInitVector whose buffers of kMapBufferBytes or
// more are mappings of their own (MapBuffer: 2 MiB aligned, on transparent
// huge pages), not blocks of malloc's heap; smaller ones come from the heap
// as usual. For buffers sized for a whole unit of input of which only a part
// is written (a Parquet row group's decoded columns): their unwritten pages
// cost nothing, and they leave the heap's huge-page reservation
// (ReserveHugePageHeap) to the buffers allocated after them. Growing one
// maps a new buffer and copies (std::vector's rule): size it once
// (reserve, or resize on an empty one) where that matters.
#pragma once

#include <cstddef>
#include <new>
#include <type_traits>

#include "common/default_init.h"
#include "common/prefault.h"

namespace fb {

template <class T>
class MappedAllocator : public DefaultInitAllocator<T> {
 public:
  using value_type = T;
  template <class U>
  struct rebind {
    using other = MappedAllocator<U>;
  };
  MappedAllocator() noexcept = default;
  template <class U>
  MappedAllocator(const MappedAllocator<U>&) noexcept {}

  T* allocate(size_t n) {
    if (n > static_cast<size_t>(-1) / sizeof(T)) throw std::bad_array_new_length();
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapBufferBytes) return DefaultInitAllocator<T>::allocate(n);
    void* p = MapBuffer(bytes, /*huge=*/true);
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) noexcept {
    const size_t bytes = n * sizeof(T);
    if (bytes < kMapBufferBytes) {
      DefaultInitAllocator<T>::deallocate(p, n);
    } else {
      UnmapBuffer(p, bytes);
    }
  }
  friend bool operator==(const MappedAllocator&, const MappedAllocator&) noexcept { return true; }
};

template <class T>
using MappedVector = std::vector<T, MappedAllocator<T>>;

}  // namespace fb
