// fastdnn._core.Network: the engine as Python sees it.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "bindings/checks.h"
#include "bindings/network_data.h"
#include "bindings/network_shard.h"
#include "bindings/specs.h"
#include "engine/network.h"

namespace fastdnn::bind {

namespace {

int64_t batch_size_of(py::handle obj, int64_t rows) {
  // Any positive size is accepted (as Keras does); more than `rows` is one batch of them all.
  if (obj.is_none()) return std::max<int64_t>(rows, 1);
  return std::min(integer_in(obj, "batch_size", 1, std::numeric_limits<int64_t>::max()), std::max<int64_t>(rows, 1));
}

// A NumPy view of engine memory; `owner` (the Network) stays alive as long as the view.
py::array view(float* data, const ParamInfo& p, py::handle owner) {
  std::vector<py::ssize_t> shape{p.rows};
  if (p.cols != 0) shape.push_back(p.cols);
  return py::array_t<float>(shape, data, owner);
}

// A list with one array per head when the network was built with a list of heads, else head 0's array.
py::object per_head(const Network& net, const std::vector<py::array_t<float>>& arrays) {
  if (!net.spec().listed_heads) return arrays[0];
  py::list out;
  for (const auto& a : arrays) out.append(a);
  return out;
}

}  // namespace

void bind_network(py::module_& m) {
  m.def(
      "require_finite",
      [](const std::string& name, py::handle data) {
        const FloatArray a = any_array(data, name.c_str());
        const int64_t rows = a.shape(0), width = a.size() / rows;
        py::gil_scoped_release release;
        require_finite(name.c_str(), a.data(), rows, width);
      },
      py::arg("name"), py::arg("data"),
      "ValueError naming the first row and column of `data` (samples first) holding NaN or Inf.");

  py::class_<Network>(m, "Network", R"doc(
A network run by the C++ engine: ops over slots, a loss and an optimizer.

Network(input_width, ops, loss, optimizer) with ops a list of dicts
({'kind': 'dense', 'units': 100}, {'kind': 'activation', 'activation': 'relu'},
{'kind': 'batch_normalization'}, {'kind': 'dropout', 'rate': 0.5}, ...), loss a
dict ({'kind': 'sparse_categorical_crossentropy', 'metric':
'sparse_categorical_accuracy'}) and optimizer a dict ({'kind': 'adam'}).

A DAG: input_width a list (k input slots 0 .. k-1); op i writes slot k + i and
reads the slots of its 'inputs' (default: the previous slot), all written before
it; 'shares': j reuses op j's parameters; merge ops 'concatenate' (with
'blocks'), 'add', 'subtract', 'multiply', 'average', 'maximum', 'minimum', and
'identity'. loss a list of heads {'slot': s, 'loss': dict or None, 'weight': w}:
then x, y, outputs are lists (one per input / head) and predict returns a list.
Every call that runs the network releases the GIL.)doc")
      .def(py::init([](py::handle input_width, py::list ops, py::handle loss, py::handle optimizer) {
             NetworkSpec spec;
             spec.input_widths = parse_input_widths(input_width, &spec.listed_inputs);
             if (ops.size() == 0) throw py::value_error("ops must list at least one op");
             for (size_t i = 0; i < ops.size(); ++i) spec.ops.push_back(parse_op(ops[i], int(i)));
             spec.heads = parse_heads(loss, &spec.listed_heads);
             spec.optimizer = parse_optimizer(optimizer);
             try {
               return std::make_unique<Network>(spec);
             } catch (std::bad_alloc&) {
               std::string widths = std::to_string(spec.input_widths[0]);
               for (const OpSpec& op : spec.ops) {
                 if (op.kind == OpKind::Dense) widths += " -> " + std::to_string(op.units);
               }
               raise(PyExc_MemoryError, "not enough memory for the parameters of ops (input_width " + widths +
                                            "): lower input_width or the ops' 'units'");
             }
           }),
           py::arg("input_width"), py::arg("ops"), py::arg("loss"), py::arg("optimizer"))
      .def_property_readonly("input_width", [](Network& n) { return n.spec().input_widths[0]; },
                             "The width of input slot 0.")
      .def_property_readonly(
          "input_widths",
          [](Network& n) {
            py::list widths;
            for (int64_t w : n.spec().input_widths) widths.append(w);
            return widths;
          },
                             "The width of each input slot.")
      .def_property_readonly("output_width", [](Network& n) { return n.output_width(0); }, "Head 0's width.")
      .def_property_readonly(
          "output_widths",
          [](Network& n) {
            py::list widths;
            for (int h = 0; h < n.heads(); ++h) widths.append(n.output_width(h));
            return widths;
          },
          "The width of each head's slot, in head order.")
      .def_property(
          "iterations", [](Network& n) { return n.iterations; },
          [](Network& n, py::handle v) { n.iterations = integer_in(v, "iterations", 0, int64_t(1) << 62); },
          "Optimizer steps taken (Keras' optimizer.iterations); also keys the dropout masks.")
      .def_property_readonly("step_seconds", [](Network& n) { return n.step_seconds; },
                             "Wall time spent inside the C++ train_step so far.")
      .def(
          "set_profiling",
          [](Network& net, bool on) {
            locked(net, [&] {
              net.profiling = on;
              net.profile = StepProfile{};
              net.step_seconds = 0.0;
            });
          },
          py::arg("on"), "Time each part of every training step from now on (resets the counters).")
      .def(
          "profile",
          [](Network& net) {
            static const char* names[StepProfile::kParts] = {
                "dense", "batch_normalization", "activation", "prelu", "rrelu", "dropout",
                "alpha_dropout", "normalization", "rescaling", "gaussian_noise", "gaussian_dropout",
                "activity_regularization", "layer_normalization", "concatenate", "add", "subtract", "multiply",
                "average", "maximum", "minimum", "identity", "loss", "optimizer", "other"};
            py::dict d;
            for (int i = 0; i < StepProfile::kParts; ++i) d[names[i]] = net.profile.seconds[i];
            d["steps"] = net.profile.steps;
            d["step_seconds"] = net.step_seconds;
            return d;
          },
          "Seconds spent per op kind (forward + backward), in the loss, the optimizer update and the "
          "rest, over the steps since set_profiling(True); with 'steps' and 'step_seconds'.")
      .def_property(
          "u_product", [](Network& n) { return n.optimizer().u_product(); },
          [](Network& n, py::handle v) { n.optimizer().u_product() = finite_number(v, "u_product"); },
          "Nadam's running product of momentum coefficients (state, for exact resumption).")
      .def(
          "train_step",
          [](Network& net, py::handle x, py::handle y, py::handle learning_rate, py::handle sample_weight,
             py::handle head_losses) {
            const Batch b = batch_of(net, x, y, sample_weight);
            const float lr = float(finite_number(learning_rate, "learning_rate"));
            double* per_head = head_loss_buffer(head_losses, {net.heads()});
            const BatchResult r =
                locked(net, [&] { return net.train_step(b.x.data.data(), b.y.data(), b.rows(), lr, per_head); });
            return result_tuple(r, b.weighted());
          },
          py::arg("x"), py::arg("y"), py::arg("learning_rate"), py::arg("sample_weight") = py::none(),
          py::arg("head_losses") = py::none(),
          "One step (forward, loss, backward, update) on a batch; returns (loss, hits), and the weighted "
          "hits Σ w·hit third when sample_weight is given (loss = Σ w·L / rows, as Keras; with several "
          "heads Σ weight·loss, hits of head 0). head_losses, float64 (heads,), receives each head's "
          "unweighted loss.")
      .def(
          "train_batches",
          [](Network& net, py::handle x, py::handle y, py::handle order, py::handle batch_size,
             py::handle learning_rates, py::handle sample_weight, py::handle outputs, py::handle head_losses,
             py::handle replica, py::handle reducer) {
            const Replica shard = replica_of(replica, reducer);
            const Batch data = batch_of(net, x, y, sample_weight);
            const bool weighted = data.weighted();
            const int64_t rows = data.rows();
            const py::array_t<int64_t> idx = indices(order, "order");
            const int64_t n = idx.shape(0);
            for (int64_t i = 0; i < n; ++i) {
              if (idx.data()[i] < 0 || idx.data()[i] >= rows) {
                throw py::index_error("order[" + std::to_string(i) + "] = " + std::to_string(idx.data()[i]) +
                                      " is outside [0, " + std::to_string(rows) + ")");
              }
            }
            const int64_t bs = batch_size_of(batch_size, n);
            const int64_t batches = (n + bs - 1) / bs;
            auto lrs = vector(learning_rates, "learning_rates", batches);
            for (int64_t b = 0; b < batches; ++b) {
              if (!std::isfinite(lrs.data()[b])) throw py::value_error("learning_rates must be finite");
            }
            const std::vector<float*> out = output_buffers(net, outputs, n);
            double* per_head = head_loss_buffer(head_losses, {batches, net.heads()});
            if (shard.sharded) {
              return train_batches_sharded(net, data, idx.data(), n, bs, lrs.data(), out, per_head, shard, reducer);
            }
            py::array_t<double> losses(batches), hits(batches), weighted_hits(weighted ? batches : 0);
            // Ctrl-C is noticed between batches (at most every 50 ms), so the
            // weights and the optimizer state stay those of a whole step.
            auto last_check = std::chrono::steady_clock::now();
            bool signalled = false;
            auto interrupted = [&] {
              const auto now = std::chrono::steady_clock::now();
              if (now - last_check < std::chrono::milliseconds(50)) return false;
              last_check = now;
              py::gil_scoped_acquire acquire;
              signalled = PyErr_CheckSignals() != 0;
              return signalled;
            };
            const int64_t done = locked(net, [&] {
              return net.train_batches(data.x.data.data(), data.y.data(), idx.data(), n, bs, lrs.data(),
                                       losses.mutable_data(), hits.mutable_data(),
                                       weighted ? weighted_hits.mutable_data() : nullptr, interrupted, out.data(),
                                       per_head);
            });
            if (signalled) throw py::error_already_set();  // KeyboardInterrupt, after `done` whole steps
            (void)done;
            if (weighted) return py::tuple(py::make_tuple(losses, hits, weighted_hits));
            return py::tuple(py::make_tuple(losses, hits));
          },
          py::arg("x"), py::arg("y"), py::arg("order"), py::arg("batch_size"), py::arg("learning_rates"),
          py::arg("sample_weight") = py::none(), py::arg("outputs") = py::none(), py::arg("head_losses") = py::none(),
          py::arg("replica") = py::none(), py::arg("reducer") = py::none(),
          "Steps over x[order] in batches (one learning rate per batch); returns per-batch (losses, hits), "
          "and the per-batch weighted hits third when sample_weight (one weight per row of x) is given. "
          "outputs, a float32 (len(order), output_width) array (a list, one per head), receives the training "
          "outputs of each row (row i: the sample order[i]), for metrics computed in Python. head_losses, "
          "float64 (batches, heads), receives each batch's unweighted loss per head.\n\n"
          "Data-parallel: with replica=(rank, world) and reducer, this process takes rows "
          "[rank·n//world, (rank+1)·n//world) of each global batch of n rows and runs compute_shard on "
          "them; then reducer(shard_rows, loss_sum, hits[, weighted_hits]), called with the GIL held, "
          "sums gradient_buffer() (and state_buffer()) across replicas in place and returns (loss, hits"
          "[, weighted_hits], stop) for the global batch; then apply_gradients. losses[k] is that loss plus "
          "the penalty; after stop=True only the batches applied are returned. outputs receive this "
          "shard's rows, head_losses this shard's compute_shard head losses (not reduced). An exception "
          "in the reducer ends the call before that step's update.")
      .def(
          "evaluate",
          [](Network& net, py::handle x, py::handle y, py::handle batch_size, py::handle sample_weight,
             py::handle outputs, py::handle head_losses) {
            const Batch b = batch_of(net, x, y, sample_weight);
            const int64_t bs = batch_size_of(batch_size, b.rows());
            const std::vector<float*> out = output_buffers(net, outputs, b.rows());
            double* per_head = head_loss_buffer(head_losses, {net.heads()});
            const BatchResult r = locked(net, [&] {
              return net.evaluate(b.x.data.data(), b.y.data(), b.rows(), bs, out.data(), per_head);
            });
            return result_tuple(r, b.weighted());
          },
          py::arg("x"), py::arg("y"), py::arg("batch_size") = py::none(), py::arg("sample_weight") = py::none(),
          py::arg("outputs") = py::none(), py::arg("head_losses") = py::none(),
          "Inference-mode loss (mean, plus penalties) and total hits; the weighted hits third when "
          "sample_weight is given. outputs, a float32 (rows, output_width) array (a list, one per head), "
          "receives the outputs of the same pass; head_losses, float64 (heads,), each head's mean loss.")
      .def(
          "predict",
          [](Network& net, py::handle x, py::handle batch_size, bool training, py::handle random_stream) {
            const Inputs X = inputs_of(net, x);
            const int64_t rows = X.rows(), bs = batch_size_of(batch_size, rows);
            const uint64_t stream = uint64_t(integer_in(random_stream, "random_stream", 0,
                                                        std::numeric_limits<int64_t>::max()));
            std::vector<py::array_t<float>> out;
            std::vector<float*> o;
            for (int h = 0; h < net.heads(); ++h) {
              out.push_back(new_array({rows, net.output_width(h)}));
              o.push_back(out.back().mutable_data());
            }
            locked(net, [&] {
              if (training) {
                net.predict_training(o.data(), X.data.data(), rows, bs, stream);
              } else {
                net.predict(o.data(), X.data.data(), rows, bs, stream);
              }
              return 0;
            });
            return per_head(net, out);
          },
          py::arg("x"), py::arg("batch_size") = py::none(), py::arg("training") = false,
          py::arg("random_stream") = 0,
          "Outputs, (rows, output_width): in inference mode, or with training=True in training mode "
          "(dropout active, batch statistics, nothing updated; draws from random_stream). In inference "
          "mode a non-zero random_stream feeds the ops fixed in training mode (MC Dropout).")
      .def(
          "compute_gradients",
          [](Network& net, py::handle x, py::handle y, py::handle sample_weight) {
            const Batch b = batch_of(net, x, y, sample_weight);
            return locked(net, [&] { return net.compute_gradients(b.x.data.data(), b.y.data(), b.rows()); });
          },
          py::arg("x"), py::arg("y"), py::arg("sample_weight") = py::none(),
          "Training-mode loss and gradients of the next step, without updating anything.")
      .def(
          "training_output",
          [](Network& net) {
            std::vector<py::array_t<float>> out;
            for (int h = 0; h < net.heads(); ++h) out.push_back(new_array({net.last_train_rows, net.output_width(h)}));
            locked(net, [&] {
              for (int h = 0; h < net.heads(); ++h) {
                const float* from = net.training_output(h);
                std::copy(from, from + net.last_train_rows * net.output_width(h), out[size_t(h)].mutable_data());
              }
              return 0;
            });
            return per_head(net, out);
          },
          "A copy of the outputs of the last training step (training mode), for metrics computed in Python.")
      .def(
          "parameters",
          [](py::object self) {
            Network& net = self.cast<Network&>();
            py::list out;
            ParamStore& store = net.params();
            for (int id = 0; id < int(store.infos().size()); ++id) {
              const ParamInfo& p = store.infos()[id];
              py::dict d;
              d["name"] = p.name;
              d["op"] = p.op;
              d["trainable"] = p.trainable;
              d["value"] = view(store.value(id), p, self);
              d["grad"] = p.trainable ? py::object(view(store.grad(id), p, self)) : py::object(py::none());
              out.append(d);
            }
            return out;
          },
          "Every parameter and statistic, in op order, as views of the engine's memory.")
      .def(
          "optimizer_slots",
          [](py::object self) {
            Network& net = self.cast<Network&>();
            py::dict out;
            ParamStore& store = net.params();
            for (Optimizer::Slot& slot : net.optimizer().slots()) {
              py::list per_param;
              for (const ParamInfo& p : store.infos()) {
                if (p.trainable) per_param.append(view(slot.buffer.data() + p.offset, p, self));
              }
              out[py::str(slot.name)] = per_param;
            }
            return out;
          },
          "The optimizer's state: {slot name: [one view per trainable parameter]}.");
}

}  // namespace fastdnn::bind
