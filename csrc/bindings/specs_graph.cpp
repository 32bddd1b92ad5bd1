// The graph parts of a network's spec: input slots, each op's input slots and
// shared parameters, and the loss heads.
#include <cmath>
#include <limits>

#include "bindings/specs.h"

namespace fastdnn::bind {

namespace {

constexpr int64_t kMaxWidth = (int64_t(1) << 31) - 1;

bool is_sequence(py::handle obj) { return py::isinstance<py::list>(obj) || py::isinstance<py::tuple>(obj); }

}  // namespace

void read_graph_keys(Settings& s, OpSpec* op) {
  py::handle inputs = s.get("inputs");
  if (!inputs.is_none()) {
    const std::string name = s.name("inputs");
    if (!is_sequence(inputs)) throw py::type_error(name + " must be a list of slot numbers");
    py::sequence list = py::reinterpret_borrow<py::sequence>(inputs);
    if (list.size() == 0) throw py::value_error(name + " must list at least one slot");
    for (size_t m = 0; m < list.size(); ++m) {
      op->inputs.push_back(int(integer_in(list[m], (name + "[" + std::to_string(m) + "]").c_str(), 0, kMaxWidth)));
    }
  }
  py::handle shares = s.get("shares");
  if (!shares.is_none()) op->shares = int(integer_in(shares, s.name("shares").c_str(), 0, kMaxWidth));
  if (op->kind == OpKind::Concatenate) op->blocks = s.integer("blocks", 1, 1, kMaxWidth);
}

std::vector<int64_t> parse_input_widths(py::handle input_width, bool* listed) {
  *listed = is_sequence(input_width);
  if (!*listed) return {integer_in(input_width, "input_width", 1, kMaxWidth)};
  py::sequence list = py::reinterpret_borrow<py::sequence>(input_width);
  if (list.size() == 0) throw py::value_error("input_width must list at least one width");
  std::vector<int64_t> widths;
  for (size_t s = 0; s < list.size(); ++s) {
    widths.push_back(integer_in(list[s], ("input_width[" + std::to_string(s) + "]").c_str(), 1, kMaxWidth));
  }
  return widths;
}

std::vector<HeadSpec> parse_heads(py::handle loss, bool* listed) {
  *listed = is_sequence(loss);
  if (!*listed) {
    HeadSpec head;
    head.loss = parse_loss(loss);
    return {head};
  }
  py::sequence list = py::reinterpret_borrow<py::sequence>(loss);
  if (list.size() == 0) throw py::value_error("loss must list at least one head");
  std::vector<HeadSpec> heads;
  for (size_t h = 0; h < list.size(); ++h) {
    Settings s(list[h], "loss[" + std::to_string(h) + "]");
    HeadSpec head;
    if (!s.has("slot")) throw py::value_error(s.name("slot") + " is required");
    head.slot = int(s.integer("slot", 0, 0, kMaxWidth));
    py::handle spec = s.get("loss");
    head.has_loss = !spec.is_none();
    if (head.has_loss) head.loss = parse_loss(spec);
    head.weight = s.number("weight", 1.0, 0.0, std::numeric_limits<double>::infinity());
    if (!std::isfinite(head.weight)) throw py::value_error(s.name("weight") + " must be finite");
    s.finish();
    heads.push_back(head);
  }
  return heads;
}

}  // namespace fastdnn::bind
