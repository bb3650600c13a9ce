#include "io/decompress.h"

namespace fb {
namespace {

class DecodingStream final : public ReadStream {
 public:
  explicit DecodingStream(std::unique_ptr<ReadStream> raw) : raw_(std::move(raw)) {}
  Status Init(Compression kind, const std::string& name) {
    ReadStream* raw = raw_.get();
    FB_ASSIGN_OR_RETURN(decoder_, NewStreamDecoder(
                                      kind, [raw](char* b, size_t n) { return raw->Read(b, n); }, name));
    return Status::Ok();
  }
  Result<size_t> Read(char* buf, size_t n) override { return decoder_->Read(buf, n); }
  Status CheckUnchanged() override { return raw_->CheckUnchanged(); }

 private:
  std::unique_ptr<ReadStream> raw_;
  std::unique_ptr<StreamDecoder> decoder_;
};

}  // namespace

std::unique_ptr<ReadStream> OpenDecompressed(std::unique_ptr<ReadStream> raw, const std::string& name) {
  const Compression kind = CompressionForName(name);
  if (kind == Compression::kNone) return raw;
  auto s = std::make_unique<DecodingStream>(std::move(raw));
  if (!s->Init(kind, name).ok()) return nullptr;  // not reached: CompressionForName yields streamable kinds
  return s;
}

}  // namespace fb
