// punt6's packet ring: one AF_PACKET socket bound to one interface, with a TPACKET_V2 receive
// ring mapped into memory and shared with JavaScript as an ArrayBuffer, and a transmit area
// flushed with one sendmmsg(2) per batch. Readiness comes from libuv polling the socket
// (uv_poll), so JavaScript is called once per wake-up, however many frames are ready.
//
// Kernel interface: Documentation/networking/packet_mmap.rst and include/uapi/linux/if_packet.h.
//
// Why these choices:
// - TPACKET_V2, not V3: a V3 block is handed to user space only when it is full or its retire
//   timer fires (milliseconds), so a lone frame waits; a V2 frame is readable as soon as the
//   kernel has written it, and many ready frames are still taken in one batch.
// - Every slot holds a whole frame of the interface's MTU (the caller computes the slot size),
//   so nothing is truncated; blocks are whole pages holding whole slots.
// - The socket is created with protocol 0 (it receives nothing), gets its filter and ring, and
//   only then is bound with ETH_P_ALL: the first frame after the bind lands in the ring, filtered.
// - PACKET_IGNORE_OUTGOING: frames the host sends on the interface are not read back.
// - Transmit: sendmmsg over copies in an anonymous mapping. A PACKET_TX_RING would need user
//   space to follow the kernel's private head through partial sends; sendmmsg reports exactly
//   how many frames went out. PACKET_QDISC_BYPASS hands them straight to the driver.
// - The kernel strips an 802.1Q tag into tp_vlan_tci before any packet socket sees the frame;
//   the tag is written back in front of the EtherType here (in the slot's free headroom, as
//   libpcap does) so the frame reads as it was on the wire.
//
// Memory safety: JavaScript holds ArrayBuffers over native memory. close() detaches them
// before unmapping, so a view kept past close() reads as empty instead of faulting. A region
// is unmapped when close() runs or, without close(), when neither the Ring nor any of its
// ArrayBuffers is reachable any more.

#include <napi.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>
#include <vector>

namespace {

// Size of the descriptors written by receive(): [offset, captured length, status, wire length].
constexpr int kDescriptorWords = 4;
// Headroom a reinserted 802.1Q tag takes in front of the frame.
constexpr unsigned kVlanTagLength = 4;
// Blocks are about this large: big enough to keep the number of blocks small, small enough to
// be found as contiguous pages (the kernel falls back to vmalloc when they are not).
constexpr size_t kBlockTarget = 128 * 1024;

// A native memory region shared with JavaScript through ArrayBuffers. The Ring and each
// ArrayBuffer hold one reference; unmap() frees the memory at once (close), and the last
// release frees the record.
struct Region {
  void* base = nullptr;
  size_t length = 0;
  int refs = 1;

  void unmap() {
    if (base != nullptr) munmap(base, length);
    base = nullptr;
  }
  void release() {
    if (--refs == 0) {
      unmap();
      delete this;
    }
  }
};

Region* mapAnonymous(size_t length) {
  void* p = mmap(nullptr, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return nullptr;
  Region* r = new Region();
  r->base = p;
  r->length = length;
  return r;
}

std::string errnoText(const char* what, int err) {
  return std::string(what) + ": " + strerror(err);
}

class Ring : public Napi::ObjectWrap<Ring> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "Ring",
                       {InstanceMethod("receive", &Ring::Receive), InstanceMethod("release", &Ring::Release),
                        InstanceMethod("send", &Ring::Send), InstanceMethod("stats", &Ring::Stats),
                        InstanceMethod("close", &Ring::Close)});
  }

  // new Ring(interfaceName, { frames, frameSize, txFrames, batch, filter?, onReadable })
  explicit Ring(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Ring>(info) {
    Napi::Env env = info.Env();
    if (info.Length() < 2 || !info[0].IsString() || !info[1].IsObject()) {
      Napi::TypeError::New(env, "Ring(interface: string, options: object)").ThrowAsJavaScriptException();
      return;
    }
    std::string name = info[0].As<Napi::String>().Utf8Value();
    Napi::Object o = info[1].As<Napi::Object>();
    auto number = [&](const char* key) -> int64_t {
      Napi::Value v = o.Get(key);
      return v.IsNumber() ? v.As<Napi::Number>().Int64Value() : -1;
    };
    int64_t frames = number("frames"), frameSize = number("frameSize"), txFrames = number("txFrames"),
            batch = number("batch");
    Napi::Value onReadable = o.Get("onReadable");
    // The slot must hold the TPACKET2 header, the sockaddr_ll, a tag's headroom and a frame;
    // the kernel wants it aligned to TPACKET_ALIGNMENT.
    if (name.empty() || name.size() >= IF_NAMESIZE || frames < 1 || frames > (1 << 22) || frameSize < 256 ||
        frameSize > (1 << 18) || frameSize % TPACKET_ALIGNMENT != 0 || txFrames < 1 || txFrames > (1 << 16) ||
        batch < 1 || batch > (1 << 16) || !onReadable.IsFunction()) {
      Napi::RangeError::New(env, "Ring: bad options").ThrowAsJavaScriptException();
      return;
    }
    frameSize_ = static_cast<uint32_t>(frameSize);
    txFrames_ = static_cast<uint32_t>(txFrames);
    batch_ = static_cast<uint32_t>(batch);

    std::string failure = open(name, static_cast<uint32_t>(frames), o.Get("filter"));
    if (!failure.empty()) {
      teardown();
      Napi::Error::New(env, name + ": " + failure).ThrowAsJavaScriptException();
      return;
    }
    Napi::Object self = info.This().As<Napi::Object>();
    // Kept on the object, not in a native reference: a callback that refers to its ring makes
    // a cycle the garbage collector can see through, so a ring dropped unclosed is still freed.
    self.Set("onReadable", onReadable);
    self.Set("rx", share(env, ring_, rxBuffer_));
    self.Set("tx", share(env, tx_, txBuffer_));
    Napi::ArrayBuffer d = share(env, descriptors_, descriptorBuffer_);
    self.Set("descriptors", Napi::Int32Array::New(env, batch_ * kDescriptorWords, d, 0));
    Napi::ArrayBuffer l = share(env, lengths_, lengthBuffer_);
    self.Set("txLengths", Napi::Int32Array::New(env, txFrames_, l, 0));
    self.Set("frames", Napi::Number::New(env, frames_));
    self.Set("frameSize", Napi::Number::New(env, frameSize_));
    self.Set("txFrames", Napi::Number::New(env, txFrames_));
    self.Set("batch", Napi::Number::New(env, batch_));
    self.Set("ifindex", Napi::Number::New(env, ifindex_));
  }

  // Frees the native side only: the references' own destructors let go of JavaScript values
  // without throwing (a finalizer, or the environment's teardown, may not throw).
  ~Ring() override { teardown(); }

 private:
  std::string open(const std::string& name, uint32_t frames, Napi::Value filter) {
    ifindex_ = static_cast<int>(if_nametoindex(name.c_str()));
    if (ifindex_ == 0) return "no such interface";
    fd_ = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return errnoText("socket(AF_PACKET)", errno);

    if (filter.IsTypedArray()) {
      // Classic BPF, four numbers per instruction: code, jt, jf, k.
      Napi::Int32Array f = filter.As<Napi::Int32Array>();
      if (f.ElementLength() == 0 || f.ElementLength() % 4 != 0 || f.ElementLength() / 4 > BPF_MAXINSNS)
        return "filter: not whole instructions";
      std::vector<sock_filter> prog(f.ElementLength() / 4);
      for (size_t i = 0; i < prog.size(); i++) {
        prog[i].code = static_cast<uint16_t>(f[4 * i]);
        prog[i].jt = static_cast<uint8_t>(f[4 * i + 1]);
        prog[i].jf = static_cast<uint8_t>(f[4 * i + 2]);
        prog[i].k = static_cast<uint32_t>(f[4 * i + 3]);
      }
      sock_fprog fp = {static_cast<unsigned short>(prog.size()), prog.data()};
      if (setsockopt(fd_, SOL_SOCKET, SO_ATTACH_FILTER, &fp, sizeof fp) != 0)
        return errnoText("SO_ATTACH_FILTER", errno);
    }

    int v = TPACKET_V2;
    if (setsockopt(fd_, SOL_PACKET, PACKET_VERSION, &v, sizeof v) != 0) return errnoText("PACKET_VERSION", errno);
    // Blocks are whole pages holding whole slots; the slot count is rounded up to whole blocks.
    size_t page = static_cast<size_t>(sysconf(_SC_PAGESIZE));
    size_t perBlock = kBlockTarget / frameSize_ > 0 ? kBlockTarget / frameSize_ : 1;
    blockSize_ = (perBlock * frameSize_ + page - 1) / page * page;
    perBlock_ = static_cast<uint32_t>(blockSize_ / frameSize_);
    uint32_t blocks = (frames + perBlock_ - 1) / perBlock_;
    frames_ = blocks * perBlock_;
    tpacket_req req = {static_cast<unsigned>(blockSize_), blocks, frameSize_, frames_};
    if (setsockopt(fd_, SOL_PACKET, PACKET_RX_RING, &req, sizeof req) != 0)
      return errnoText("PACKET_RX_RING", errno);
    size_t ringLength = blockSize_ * blocks;
    // Descriptors give offsets into the ring as int32.
    if (ringLength > INT32_MAX) return "ring larger than 2 GiB: fewer or smaller frames";
    void* p = mmap(nullptr, ringLength, PROT_READ | PROT_WRITE, MAP_SHARED, fd_, 0);
    if (p == MAP_FAILED) return errnoText("mmap of the ring", errno);
    ring_ = new Region();
    ring_->base = p;
    ring_->length = ringLength;

    tx_ = mapAnonymous(static_cast<size_t>(txFrames_) * frameSize_);
    descriptors_ = mapAnonymous(static_cast<size_t>(batch_) * kDescriptorWords * sizeof(int32_t));
    lengths_ = mapAnonymous(static_cast<size_t>(txFrames_) * sizeof(int32_t));
    if (tx_ == nullptr || descriptors_ == nullptr || lengths_ == nullptr) return errnoText("mmap", errno);
    messages_.assign(txFrames_, mmsghdr{});
    vectors_.assign(txFrames_, iovec{});

    v = 1;
    // Best effort: without them the ring still works (outgoing frames are skipped below).
    setsockopt(fd_, SOL_PACKET, PACKET_IGNORE_OUTGOING, &v, sizeof v);
    setsockopt(fd_, SOL_PACKET, PACKET_QDISC_BYPASS, &v, sizeof v);
    int sndbuf = 4 * 1024 * 1024;
    if (setsockopt(fd_, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof sndbuf) != 0)
      setsockopt(fd_, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    // Frames to any MAC (the router MACs are not the interface's); dropped with the socket.
    packet_mreq mr = {};
    mr.mr_ifindex = ifindex_;
    mr.mr_type = PACKET_MR_PROMISC;
    if (setsockopt(fd_, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof mr) != 0)
      return errnoText("PACKET_ADD_MEMBERSHIP", errno);

    sockaddr_ll sll = {};
    sll.sll_family = AF_PACKET;
    sll.sll_protocol = htons(ETH_P_ALL);
    sll.sll_ifindex = ifindex_;
    if (bind(fd_, reinterpret_cast<sockaddr*>(&sll), sizeof sll) != 0) return errnoText("bind", errno);

    uv_loop_t* loop = nullptr;
    if (napi_get_uv_event_loop(Env(), &loop) != napi_ok) return "no event loop";
    poll_ = new uv_poll_t();
    int e = uv_poll_init(loop, poll_, fd_);
    if (e != 0) {
      delete poll_;
      poll_ = nullptr;
      return std::string("uv_poll_init: ") + uv_strerror(e);
    }
    poll_->data = this;
    context_ = new Napi::AsyncContext(Env(), "punt6:ring");
    return startPolling();
  }

  std::string startPolling() {
    int e = uv_poll_start(poll_, UV_READABLE, &Ring::OnPoll);
    return e == 0 ? "" : std::string("uv_poll_start: ") + uv_strerror(e);
  }

  // An ArrayBuffer over a region; the region is released when the ArrayBuffer is collected.
  Napi::ArrayBuffer share(Napi::Env env, Region* r, Napi::Reference<Napi::ArrayBuffer>& keep) {
    r->refs++;
    Napi::ArrayBuffer b =
        Napi::ArrayBuffer::New(env, r->base, r->length, [](Napi::Env, void*, Region* region) { region->release(); }, r);
    keep = Napi::Weak(b);
    return b;
  }

  // The slot of frame i: block i / perBlock, position i % perBlock inside it.
  uint8_t* slot(uint32_t i) const {
    return static_cast<uint8_t*>(ring_->base) + (i / perBlock_) * blockSize_ + (i % perBlock_) * frameSize_;
  }

  static void OnPoll(uv_poll_t* handle, int status, int) { static_cast<Ring*>(handle->data)->Readable(status); }

  // Calls onReadable(code) once: 0 when frames are ready; on a socket error (libuv then stops
  // the poll) the error is read and cleared, polling goes on while the interface exists
  // (-errno, usually ENETDOWN: the link went down; the kernel re-attaches the socket when it
  // comes up) and stops when it is gone (-ENODEV).
  void Readable(int status) {
    Napi::Env env = Env();
    Napi::HandleScope scope(env);
    int code = 0;
    if (status < 0) {
      int err = 0;
      socklen_t l = sizeof err;
      getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &l);
      char name[IF_NAMESIZE];
      if (if_indextoname(static_cast<unsigned>(ifindex_), name) == nullptr) {
        code = -ENODEV;
      } else {
        code = -(err != 0 ? err : EIO);
        if (!startPolling().empty()) code = -ENODEV;
      }
    }
    Napi::Object self = Value();
    if (self.IsEmpty()) return;  // collected; the finalizer frees the rest
    Napi::Value f = self.Get("onReadable");
    if (!f.IsFunction()) return;
    Napi::Value r = f.As<Napi::Function>().MakeCallback(self, {Napi::Number::New(env, code)}, *context_);
    if (r.IsEmpty() && env.IsExceptionPending()) {
      Napi::Error e = env.GetAndClearPendingException();
      napi_fatal_exception(env, e.Value());
    }
  }

  // receive(max?): releases the previous batch to the kernel, then describes up to `max`
  // ready frames (at most `batch`) in `descriptors` and returns how many.
  Napi::Value Receive(const Napi::CallbackInfo& info) {
    if (closed_) return Napi::Number::New(info.Env(), 0);
    releasePending();
    uint32_t max = batch_;
    if (info.Length() > 0 && info[0].IsNumber()) {
      int64_t m = info[0].As<Napi::Number>().Int64Value();
      if (m >= 0 && m < max) max = static_cast<uint32_t>(m);
    }
    int32_t* d = static_cast<int32_t*>(descriptors_->base);
    uint32_t n = 0, scanned = 0;
    uint8_t* base = static_cast<uint8_t*>(ring_->base);
    while (n < max && scanned < frames_) {
      uint32_t i = (head_ + scanned) % frames_;
      uint8_t* s = slot(i);
      tpacket2_hdr* h = reinterpret_cast<tpacket2_hdr*>(s);
      // Acquire: the frame's bytes are read only after the kernel's status store says ready.
      uint32_t st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
      if ((st & TP_STATUS_USER) == 0) break;
      scanned++;
      const sockaddr_ll* from = reinterpret_cast<const sockaddr_ll*>(s + TPACKET_ALIGN(sizeof(tpacket2_hdr)));
      if (from->sll_pkttype == PACKET_OUTGOING) continue;
      uint32_t mac = h->tp_mac, caplen = h->tp_snaplen, wirelen = h->tp_len;
      if (mac + caplen > frameSize_) continue;  // never written so by the kernel; not trusted either
      bool tagged = (st & TP_STATUS_VLAN_VALID) != 0 || h->tp_vlan_tci != 0;
      if (tagged && caplen >= 2 * ETH_ALEN && mac >= TPACKET2_HDRLEN + kVlanTagLength) {
        uint16_t tpid = (st & TP_STATUS_VLAN_TPID_VALID) != 0 ? h->tp_vlan_tpid : ETH_P_8021Q;
        uint8_t* f = s + mac - kVlanTagLength;
        memmove(f, s + mac, 2 * ETH_ALEN);
        uint16_t tag[2] = {htons(tpid), htons(h->tp_vlan_tci)};
        memcpy(f + 2 * ETH_ALEN, tag, sizeof tag);
        mac -= kVlanTagLength;
        caplen += kVlanTagLength;
        wirelen += kVlanTagLength;
      }
      d[n * kDescriptorWords] = static_cast<int32_t>(s + mac - base);
      d[n * kDescriptorWords + 1] = static_cast<int32_t>(caplen);
      d[n * kDescriptorWords + 2] = static_cast<int32_t>(st);
      d[n * kDescriptorWords + 3] = static_cast<int32_t>(wirelen);
      n++;
    }
    pending_ = scanned;
    return Napi::Number::New(info.Env(), n);
  }

  // release(): hands the frames of the last receive() back to the kernel.
  Napi::Value Release(const Napi::CallbackInfo& info) {
    if (!closed_) releasePending();
    return info.Env().Undefined();
  }

  void releasePending() {
    for (uint32_t k = 0; k < pending_; k++) {
      tpacket2_hdr* h = reinterpret_cast<tpacket2_hdr*>(slot((head_ + k) % frames_));
      // Release: the kernel may reuse the slot only after we are done reading it.
      __atomic_store_n(&h->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
    }
    head_ = (head_ + pending_) % frames_;
    pending_ = 0;
  }

  // send(count): sends tx slots 0..count-1 (slot k holds txLengths[k] bytes at k * frameSize)
  // with sendmmsg; returns how many were sent. On a failure the rest of the batch is not sent
  // and error() says why.
  Napi::Value Send(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (closed_ || info.Length() < 1 || !info[0].IsNumber()) return Napi::Number::New(env, 0);
    int64_t c = info[0].As<Napi::Number>().Int64Value();
    uint32_t count = c <= 0 ? 0 : c > txFrames_ ? txFrames_ : static_cast<uint32_t>(c);
    const int32_t* len = static_cast<const int32_t*>(lengths_->base);
    uint8_t* tx = static_cast<uint8_t*>(tx_->base);
    uint32_t m = 0;
    for (uint32_t k = 0; k < count; k++) {
      int32_t l = len[k];
      if (l <= 0 || static_cast<uint32_t>(l) > frameSize_) continue;  // never sent: not counted as sent
      vectors_[m].iov_base = tx + static_cast<size_t>(k) * frameSize_;
      vectors_[m].iov_len = static_cast<size_t>(l);
      messages_[m].msg_hdr = msghdr{};
      messages_[m].msg_hdr.msg_iov = &vectors_[m];
      messages_[m].msg_hdr.msg_iovlen = 1;
      m++;
    }
    uint32_t sent = 0;
    while (sent < m) {
      int r = sendmmsg(fd_, messages_.data() + sent, m - sent, MSG_DONTWAIT);
      if (r > 0) {
        sent += static_cast<uint32_t>(r);
      } else if (r < 0 && errno == EINTR) {
        continue;
      } else {
        lastError_ = r < 0 ? errno : EIO;
        break;
      }
    }
    return Napi::Number::New(env, sent);
  }

  // stats(): { received, dropped, error } — the kernel's PACKET_STATISTICS summed since the
  // socket opened (reading them resets the kernel's), and the last send error's text ('' none).
  Napi::Value Stats(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    if (!closed_) readStatistics();
    Napi::Object o = Napi::Object::New(env);
    o.Set("received", Napi::Number::New(env, static_cast<double>(received_)));
    o.Set("dropped", Napi::Number::New(env, static_cast<double>(dropped_)));
    o.Set("error", Napi::String::New(env, lastError_ == 0 ? "" : strerror(lastError_)));
    return o;
  }

  void readStatistics() {
    tpacket_stats s = {};
    socklen_t l = sizeof s;
    if (getsockopt(fd_, SOL_PACKET, PACKET_STATISTICS, &s, &l) == 0) {
      received_ += s.tp_packets;
      dropped_ += s.tp_drops;
    }
  }

  // close(): stops polling, detaches the ArrayBuffers, unmaps and closes. Safe to call again.
  Napi::Value Close(const Napi::CallbackInfo& info) {
    if (!closed_) {
      readStatistics();
      for (auto* keep : {&rxBuffer_, &txBuffer_, &descriptorBuffer_, &lengthBuffer_}) {
        if (!keep->IsEmpty()) {
          Napi::ArrayBuffer b = keep->Value();
          if (!b.IsEmpty() && !b.IsDetached()) b.Detach();
        }
      }
      for (Region* r : {ring_, tx_, descriptors_, lengths_})
        if (r != nullptr) r->unmap();
      teardown();
      for (auto* keep : {&rxBuffer_, &txBuffer_, &descriptorBuffer_, &lengthBuffer_}) keep->Reset();
    }
    return info.Env().Undefined();
  }

  // Stops polling, releases the regions, closes the socket; touches no JavaScript value.
  void teardown() {
    closed_ = true;
    if (poll_ != nullptr) {
      uv_poll_stop(poll_);
      uv_close(reinterpret_cast<uv_handle_t*>(poll_), [](uv_handle_t* h) { delete reinterpret_cast<uv_poll_t*>(h); });
      poll_ = nullptr;
    }
    for (Region** r : {&ring_, &tx_, &descriptors_, &lengths_}) {
      if (*r != nullptr) (*r)->release();
      *r = nullptr;
    }
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    delete context_;
    context_ = nullptr;
  }

  int fd_ = -1;
  int ifindex_ = 0;
  bool closed_ = false;
  uint32_t frameSize_ = 0, frames_ = 0, perBlock_ = 1, txFrames_ = 0, batch_ = 0;
  size_t blockSize_ = 0;
  // Next slot to read, and how many slots from there the last receive() took.
  uint32_t head_ = 0, pending_ = 0;
  uint64_t received_ = 0, dropped_ = 0;
  int lastError_ = 0;
  Region* ring_ = nullptr;
  Region* tx_ = nullptr;
  Region* descriptors_ = nullptr;
  Region* lengths_ = nullptr;
  std::vector<mmsghdr> messages_;
  std::vector<iovec> vectors_;
  uv_poll_t* poll_ = nullptr;
  Napi::AsyncContext* context_ = nullptr;
  Napi::Reference<Napi::ArrayBuffer> rxBuffer_, txBuffer_, descriptorBuffer_, lengthBuffer_;
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("Ring", Ring::Define(env));
  Napi::Object status = Napi::Object::New(env);
  status.Set("user", Napi::Number::New(env, TP_STATUS_USER));
  status.Set("losing", Napi::Number::New(env, TP_STATUS_LOSING));
  status.Set("csumNotReady", Napi::Number::New(env, TP_STATUS_CSUMNOTREADY));
  status.Set("vlanValid", Napi::Number::New(env, TP_STATUS_VLAN_VALID));
  status.Set("csumValid", Napi::Number::New(env, TP_STATUS_CSUM_VALID));
  exports.Set("status", status);
  exports.Set("descriptorWords", Napi::Number::New(env, kDescriptorWords));
  exports.Set("headroom", Napi::Number::New(env, TPACKET_ALIGN(TPACKET2_HDRLEN + 16)));
  return exports;
}

}  // namespace

NODE_API_MODULE(punt6_ring, Init)
