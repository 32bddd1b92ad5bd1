#include "bindings/network_shard.h"

#include <algorithm>
#include <string>

namespace fastdnn::bind {

namespace {

// A global batch of more rows than this is refused: row_offset · width then stays far
// from overflowing the random ops' 64-bit element counter.
constexpr int64_t kMaxTotalRows = int64_t(1) << 40;

std::string text_of(py::handle obj) { return std::string(py::str(py::repr(obj))); }

// A 1-D float32 view of `size` floats of engine memory; `owner` (the Network) outlives it.
py::array flat_view(float* data, int64_t size, py::handle owner) {
  return py::array_t<float>({py::ssize_t(size)}, {py::ssize_t(sizeof(float))}, data, owner);
}

// True or False (a NumPy bool too); anything else is a TypeError, not its truth value.
bool strict_flag(py::handle obj, const std::string& name) {
  if (PyBool_Check(obj.ptr()) || py::isinstance(obj, py::module_::import("numpy").attr("bool_"))) {
    return PyObject_IsTrue(obj.ptr()) == 1;
  }
  throw py::type_error(name + " must be True or False; got " + text_of(obj));
}

// A real number, NaN and ±inf included (a diverged loss is still reported).
double any_number(py::handle obj, const std::string& name) {
  const bool array = py::isinstance<py::array>(obj) && py::reinterpret_borrow<py::array>(obj).ndim() != 0;
  if (obj.is_none() || PyBool_Check(obj.ptr()) || !PyNumber_Check(obj.ptr()) || array) {
    throw py::type_error(name + " must be a number; got " + text_of(obj));
  }
  const double v = PyFloat_AsDouble(obj.ptr());
  if (v == -1.0 && PyErr_Occurred()) throw py::error_already_set();
  return v;
}

// The reducer's (loss, hits[, weighted_hits], stop) into `r`; returns stop.
bool read_reduced(py::handle got, bool weighted, BatchResult& r) {
  const std::string form = weighted ? "(loss, hits, weighted_hits, stop)" : "(loss, hits, stop)";
  const size_t items = weighted ? 4 : 3;
  if (!py::isinstance<py::tuple>(got) && !py::isinstance<py::list>(got)) {
    throw py::type_error("reducer must return a tuple " + form + "; got " + text_of(got));
  }
  py::sequence s = py::reinterpret_borrow<py::sequence>(got);
  if (s.size() != items) {
    throw py::value_error("reducer must return a tuple " + form + " (" + std::to_string(items) + " items); got " +
                          std::to_string(s.size()) + " items");
  }
  r.loss = any_number(s[0], "reducer's loss (item 0)");
  r.hits = any_number(s[1], "reducer's hits (item 1)");
  if (weighted) r.weighted_hits = any_number(s[2], "reducer's weighted_hits (item 2)");
  return strict_flag(s[items - 1], "reducer's stop (item " + std::to_string(items - 1) + ")");
}

}  // namespace

Replica replica_of(py::handle replica, py::handle reducer) {
  Replica r;
  if (!reducer.is_none() && !PyCallable_Check(reducer.ptr())) {
    throw py::type_error("reducer must be callable (or None); got " + text_of(reducer));
  }
  if (replica.is_none()) {
    if (!reducer.is_none()) throw py::value_error("reducer is given but replica is None: pass replica=(rank, world)");
    return r;
  }
  if (!(py::isinstance<py::tuple>(replica) || py::isinstance<py::list>(replica)) || py::len(replica) != 2) {
    throw py::type_error("replica must be a pair (rank, world) of ints; got " + text_of(replica));
  }
  py::sequence pair = py::reinterpret_borrow<py::sequence>(replica);
  r.world = integer_in(pair[1], "replica's world (replica[1])", 1, int64_t(1) << 30);
  r.rank = integer_in(pair[0], "replica's rank (replica[0])", 0, r.world - 1);
  if (r.world > 1 && reducer.is_none()) {
    throw py::value_error("replica=(" + std::to_string(r.rank) + ", " + std::to_string(r.world) +
                          ") needs a reducer: the replicas' gradients must be summed before each update");
  }
  r.sharded = !reducer.is_none();
  return r;
}

py::tuple train_batches_sharded(Network& net, const Batch& data, const int64_t* order, int64_t n,
                                int64_t batch_size, const float* learning_rates, const std::vector<float*>& outputs,
                                double* head_losses, const Replica& r, py::handle reducer) {
  const bool weighted = data.weighted();
  const int64_t batches = (n + batch_size - 1) / batch_size;
  py::array_t<double> losses(batches), hits(batches), weighted_hits(weighted ? batches : 0);
  // A Python error in the reducer (or in what it returned) is set as the pending error and
  // aborts the epoch before that step's update; it is raised once the engine has returned.
  bool failed = false;
  const Network::Reducer reduce = [&](int64_t shard_rows, BatchResult& result) {
    py::gil_scoped_acquire acquire;
    try {
      py::object got = weighted ? reducer(shard_rows, result.loss, result.hits, result.weighted_hits)
                                : reducer(shard_rows, result.loss, result.hits);
      return read_reduced(got, weighted, result) ? Network::Reduced::Stop : Network::Reduced::Continue;
    } catch (py::error_already_set& e) {
      e.restore();
    } catch (py::builtin_exception& e) {
      e.set_error();
    }
    failed = true;
    return Network::Reduced::Abort;
  };
  const int64_t done = locked(net, [&] {
    return net.train_shards(data.x.data.data(), data.y.data(), order, n, batch_size, learning_rates,
                            losses.mutable_data(), hits.mutable_data(), weighted ? weighted_hits.mutable_data() : nullptr,
                            r.rank, r.world, reduce, outputs.data(), head_losses);
  });
  if (failed) throw py::error_already_set();
  if (done < batches) {  // the reducer said stop: only the batches applied
    losses.resize({done});
    hits.resize({done});
    if (weighted) weighted_hits.resize({done});
  }
  if (weighted) return py::tuple(py::make_tuple(losses, hits, weighted_hits));
  return py::tuple(py::make_tuple(losses, hits));
}

void bind_network_shards(py::module_& m) {
  auto network = py::reinterpret_borrow<py::class_<Network>>(m.attr("Network"));
  network
      .def(
          "gradient_buffer",
          [](py::object self) {
            ParamStore& p = self.cast<Network&>().params();
            return flat_view(p.trainable_grads(), p.trainable_size(), self);
          },
          "The whole trainable-gradient buffer, a writable 1-D float32 view (each tensor at its 'grad' "
          "view's place, zero padding between): what a data-parallel reducer sums in place.")
      .def(
          "value_buffer",
          [](py::object self) {
            ParamStore& p = self.cast<Network&>().params();
            return flat_view(p.trainable_values(), p.trainable_size(), self);
          },
          "The trainable values, a writable 1-D float32 view laid out as gradient_buffer().")
      .def(
          "state_buffer",
          [](py::object self) {
            ParamStore& p = self.cast<Network&>().params();
            return flat_view(p.state_values(), p.state_size(), self);
          },
          "The non-trainable state (moving statistics, frozen weights), a writable 1-D float32 view "
          "(empty when there is none).")
      .def(
          "compute_shard",
          [](Network& net, py::handle x, py::handle y, py::handle sample_weight, py::handle total_rows,
             py::handle row_offset, py::handle update_moving_stats, py::handle head_losses) {
            const Batch b = batch_of(net, x, y, sample_weight, /*allow_empty=*/true);
            const int64_t rows = b.rows();
            const int64_t total = integer_in(total_rows, "total_rows", std::max<int64_t>(rows, 1), kMaxTotalRows);
            const int64_t offset = integer_in(row_offset, "row_offset", 0, total - rows);
            const bool update = strict_flag(update_moving_stats, "update_moving_stats");
            double* per_head = head_loss_buffer(head_losses, {net.heads()});
            const BatchResult r = locked(net, [&] {
              return net.compute_shard(b.x.data.data(), b.y.data(), rows, total, offset, update, per_head);
            });
            return result_tuple(r, b.weighted());
          },
          py::arg("x"), py::arg("y"), py::arg("sample_weight") = py::none(), py::kw_only(), py::arg("total_rows"),
          py::arg("row_offset") = 0, py::arg("update_moving_stats") = true, py::arg("head_losses") = py::none(),
          "One data-parallel shard: x, y are rows [row_offset, row_offset + rows) of a global batch of "
          "total_rows rows. Forward (training mode), loss, backward; the gradients of Σ w·L / total_rows "
          "overwrite gradient_buffer(). No penalty, no update, iterations unchanged. Random ops draw what "
          "the whole batch draws for these rows; BatchNormalization uses this shard's statistics (and moves "
          "its moving ones with them when update_moving_stats). Returns (loss_sum, hits), loss_sum = "
          "Σ w·L / total_rows (the shards' sum is the batch's loss), and the weighted hits third with "
          "sample_weight; head_losses, float64 (heads,), receives each head's Σ w·L / total_rows. 0 rows: "
          "a zero gradient, (0.0, 0.0). ValueError for an ActivityRegularization op when rows != total_rows.")
      .def(
          "apply_gradients",
          [](Network& net, py::handle learning_rate) {
            const float lr = float(finite_number(learning_rate, "learning_rate"));
            return locked(net, [&] { return net.apply_gradients(lr); });
          },
          py::arg("learning_rate"),
          "The rest of a train_step on whatever gradient_buffer() holds, in its order: the L1/L2 penalty's "
          "gradient added, clipping, the optimizer's update, constraints, iterations + 1. Returns the "
          "penalty. train_step(x, y, lr) is compute_shard(x, y, total_rows=len(x)) + apply_gradients(lr), "
          "bit for bit (loss = loss_sum + penalty).");
}

}  // namespace fastdnn::bind
