// The ordered parallel pipeline every block-processing program shares:
// produce items serially, work on them in parallel, finish them serially in
// the order they were produced (oneTBB's parallel_pipeline).
//
//   struct Item { grist::Block block; std::string out; };
//   grist::ordered_pipeline<Item>(
//       threads,
//       [&](Item& it) { return reader.next(it.block); },        // serial
//       [&](Item& it) { it.out = transform(it.block); },        // parallel
//       [&](Item& it) { sink.write(it.out); });                 // serial, in order
//
// Items are reused from a pool: at most 2 * threads + 2 exist, which bounds
// memory whatever the input size. An exception thrown by `produce` or `work`
// travels with its item and is rethrown when the item reaches `finish`, so
// the first error in input order wins, whatever the thread count; an
// exception from `finish` stops the pipeline at once. With threads <= 1 it
// is a plain loop over one item, with the same results.
#pragma once

#include <tbb/concurrent_queue.h>
#include <tbb/parallel_pipeline.h>

#include <cstddef>
#include <exception>
#include <memory>
#include <vector>

namespace grist {

template <class Item, class Produce, class Work, class Finish>
void ordered_pipeline(int threads, Produce&& produce, Work&& work, Finish&& finish) {
  if (threads <= 1) {
    Item it;
    while (produce(it)) {
      work(it);
      finish(it);
    }
    return;
  }
  struct Slot {
    Item item;
    std::exception_ptr error;
  };
  std::vector<std::unique_ptr<Slot>> all;  // owns every slot
  tbb::concurrent_queue<Slot*> pool;
  bool failed = false;  // produce threw: stop after that item
  const size_t in_flight = 2 * static_cast<size_t>(threads) + 2;
  tbb::parallel_pipeline(
      in_flight,
      tbb::make_filter<void, Slot*>(tbb::filter_mode::serial_in_order,
                                    [&](tbb::flow_control& fc) -> Slot* {
                                      if (failed) {
                                        fc.stop();
                                        return nullptr;
                                      }
                                      Slot* s = nullptr;
                                      if (!pool.try_pop(s)) {
                                        all.push_back(std::make_unique<Slot>());
                                        s = all.back().get();
                                      }
                                      s->error = nullptr;
                                      try {
                                        if (!produce(s->item)) {
                                          pool.push(s);
                                          fc.stop();
                                          return nullptr;
                                        }
                                      } catch (...) {
                                        s->error = std::current_exception();
                                        failed = true;
                                      }
                                      return s;
                                    }) &
          tbb::make_filter<Slot*, Slot*>(tbb::filter_mode::parallel,
                                         [&](Slot* s) {
                                           if (s->error) return s;
                                           try {
                                             work(s->item);
                                           } catch (...) {
                                             s->error = std::current_exception();
                                           }
                                           return s;
                                         }) &
          tbb::make_filter<Slot*, void>(tbb::filter_mode::serial_in_order, [&](Slot* s) {
            if (s->error) std::rethrow_exception(s->error);
            finish(s->item);
            pool.push(s);
          }));
}

}  // namespace grist
