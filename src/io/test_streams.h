// Test helpers: in-memory ReadStream / WriteStream (io tests only).
#pragma once

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>

#include "storage/storage.h"

namespace fb::testing {

// Serves `data`, at most `step` bytes per Read (to exercise short reads).
class StringReadStream : public ReadStream {
 public:
  explicit StringReadStream(std::string data, size_t step = SIZE_MAX) : data_(std::move(data)), step_(step) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min({n, step_, data_.size() - pos_});
    std::memcpy(buf, data_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string data_;
  size_t step_;
  size_t pos_ = 0;
};

// Collects bytes; `committed` holds them only after Commit.
class StringWriteStream : public WriteStream {
 public:
  explicit StringWriteStream(std::string* committed) : committed_(committed) {}
  Status Write(std::string_view b) override {
    pending_.append(b);
    return Status::Ok();
  }
  Status Commit() override {
    *committed_ = pending_;
    return Status::Ok();
  }
  void Abort() override { pending_.clear(); }

 private:
  std::string* committed_;
  std::string pending_;
};

}  // namespace fb::testing
