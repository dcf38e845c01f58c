"""The kernels runs call from Python, for :mod:`simulator.engine.warmup` (generated).

Written by ``python benchmarks/record_kernel_plan.py``; do not edit by hand. One block
per kernel and list of argument types: its CPU seconds to compile alone (callees
included, when recorded), the run profiles that call it, its argument types (numba's
names) and the package's kernels it compiles inside it (name, hash of their types).
"""

PLAN = """
kernel simulator.kernels.benign.benign_groups
    seconds 0.47
    profiles free-large free-small rules-large rules-small
    arg readonly array(int16, 1d, C)
    arg array(int16, 1d, C)
    arg int64
    arg array(float64, 1d, C)
    arg array(int32, 1d, C)
    arg array(float64, 1d, C)
    arg int64
    arg array(float64, 2d, C)
    arg array(float64, 2d, C)
    arg array(int32, 1d, C)
    arg array(float64, 2d, C)
kernel simulator.kernels.benign.benign_split
    seconds 0.58
    profiles free-large free-small rules-large rules-small
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    calls simulator.kernels.numeric.numpy_sum 921f453fc9
kernel simulator.kernels.benign.group_shares
    seconds 0.63
    profiles free-large free-small rules-large rules-small
    arg array(float64, 1d, C)
    calls simulator.kernels.numeric.numpy_sum 921f453fc9
kernel simulator.kernels.choice.note_in_public
    seconds 0.18
    profiles rules-large rules-small
    arg Beliefs(array(float32, 2d, C), array(int16, 2d, C), array(int64, 1d, C), array(int64, 1d, C), array(float32, 2d, C), array(float64, 2d, C))
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.deadline_miss.erlang_b
    seconds 0.31
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.learning.decay_climate
    seconds 0.13
    profiles rules-large rules-small
    arg Beliefs(array(float32, 2d, C), array(int16, 2d, C), array(int64, 1d, C), array(int64, 1d, C), array(float32, 2d, C), array(float64, 2d, C))
    arg float64
kernel simulator.kernels.learning.friend_sums
    seconds 0.20
    profiles rules-large rules-small
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(float64, 1d, C)
kernel simulator.kernels.learning.learn_beliefs
    seconds 1.43
    profiles rules-large rules-small
    arg Beliefs(array(float32, 2d, C), array(int16, 2d, C), array(int64, 1d, C), array(int64, 1d, C), array(float32, 2d, C), array(float64, 2d, C))
    arg int64
    arg array(float64, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(bool, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg float64
    arg float64
    arg float64
    arg float64
kernel simulator.kernels.learning.mean_beliefs
    seconds 0.46
    profiles rules-large rules-small
    arg Beliefs(array(float32, 2d, C), array(int16, 2d, C), array(int64, 1d, C), array(int64, 1d, C), array(float32, 2d, C), array(float64, 2d, C))
    arg array(int8, 1d, C)
    arg int64
    arg int64
    arg array(float64, 1d, C)
    arg array(float64, 2d, C)
    arg array(float64, 2d, C)
    arg float64
    arg int64
kernel simulator.kernels.learning.population_counts
    seconds 0.47
    profiles free-large free-small rules-large rules-small
    arg array(int8, 1d, C)
    arg array(bool, 1d, C)
    arg array(bool, 1d, C)
    arg array(bool, 1d, C)
    calls simulator.kernels.numeric.count_values 166b5def36
kernel simulator.kernels.moderation.moderation_tables
    seconds 0.74
    profiles free-large free-small rules-large rules-small
    arg array(float64, 3d, C)
    arg array(bool, 1d, C)
    arg array(float64, 2d, C)
    arg array(float64, 2d, C)
    calls simulator.kernels.moderation.touch_tables ea146ad1b4
kernel simulator.kernels.network.count_loops_kept
    seconds 0.10
    profiles rules-large rules-small
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
kernel simulator.kernels.network.network_offsets
    seconds 0.14
    profiles rules-large rules-small
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
kernel simulator.kernels.network.network_rows
    seconds 0.21
    profiles rules-small
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
kernel simulator.kernels.network.sort_rows
    seconds 0.20
    profiles rules-small
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
kernel simulator.kernels.network.sorted_rows_blocked
    seconds 1.06
    profiles rules-large
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg int64
    arg int64
    arg int64
kernel simulator.kernels.numeric.bucket_index
    seconds 0.21
    profiles free-large free-small rules-large rules-small
    arg array(float64, 1d, C)
    arg int64
kernel simulator.kernels.police.investigate_until
    seconds 0.97
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg float64
    arg int64
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(float64, 1d, C)
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int8, 1d, C)
    arg array(bool, 1d, C)
    arg float64
    arg array(float64, 1d, C)
    arg float64
    calls simulator.kernels.queue.finish_pop db80294162
    calls simulator.kernels.queue.finish_push 26e4dc3479
    calls simulator.kernels.queue.line_pop eeae769db5
    calls simulator.kernels.queue.line_push 232672fa70
kernel simulator.kernels.publishing.publish_days
    seconds 20.54
    profiles free-large free-small rules-large rules-small
    arg int64
    arg int64
    arg Handles(readonly array(uint64, 1d, C) x 3)
    arg SpeechSource(array(float64, 2d, C), array(float64, 2d, C), array(int64, 2d, C), array(int64, 1d, C), int64, array(float32, 1d, C), float64)
    arg Drawn(array(int64, 2d, C), array(int64, 1d, C), array(float64, 1d, C), array(int64, 1d, C), array(float64, 1d, C), array(float32, 1d, C))
    arg BenignGroups(array(float64, 2d, C), array(float64, 2d, C), array(int32, 1d, C), array(int32, 1d, C), array(float64, 1d, C), array(float64, 2d, C), array(float64, 2d, C), int64)
    arg Routes(readonly array(int16, 1d, C), array(int16, 1d, C))
    arg SpeechInputs(array(float64, 3d, C), array(float64, 1d, C), array(int64, 1d, C), array(int16, 1d, C), array(int64, 1d, C), array(float64, 2d, C), array(bool, 1d, C), array(float64, 1d, C), array(float64, 2d, C), array(float64, 2d, C), array(float64, 1d, C), array(float64, 3d, C), array(int64, 1d, C), array(int64, 4d, C), array(int8, 1d, C), array(int64, 3d, C))
    arg Beliefs(array(float32, 2d, C), array(int16, 2d, C), array(int64, 1d, C), array(int64, 1d, C), array(float32, 2d, C), array(float64, 2d, C))
    arg Moderation(array(bool, 1d, C), array(bool, 1d, C), array(float64, 2d, C), array(float64, 4d, C), array(float64, 3d, C), array(float64, 4d, C), float64, float64, array(float64, 1d, C), array(float64, 1d, C), array(float64, 2d, C), float64, array(float64, 1d, C), array(float64, 1d, C), float64)
    arg DayCounts(array(int64, 4d, C), array(int64, 5d, C), array(int64, 2d, C), array(int64, 2d, C), array(float64, 4d, C))
    arg Buffers(array(float64, 2d, C), array(int64, 2d, C), array(float64, 2d, C), array(int64, 2d, C), array(float64, 2d, C), array(int64, 2d, C), array(int64, 2d, C), array(float64, 2d, C), array(int64, 2d, C), array(int64, 1d, C))
    arg int64
    calls simulator.kernels.arrivals.attention_time 4c86f1b557
    calls simulator.kernels.arrivals.attention_time_given_noticed 14a53b1163
    calls simulator.kernels.arrivals.held_delays ea3e1042d3
    calls simulator.kernels.arrivals.noticed feef064bbe
    calls simulator.kernels.arrivals.seen_by 0cb83cac64
    calls simulator.kernels.arrivals.sweep_time 0cb83cac64
    calls simulator.kernels.arrivals.view_rate 6bd2a66c44
    calls simulator.kernels.buffers.grow_columns dd701c2b88
    calls simulator.kernels.buffers.grow_columns e09d409f44
    calls simulator.kernels.buffers.merge_by_platform 2193617015
    calls simulator.kernels.channel._publish 089d591739
    calls simulator.kernels.channel.publish_channel 3ac5d60418
    calls simulator.kernels.choice.choose_posts 9f228e9828
    calls simulator.kernels.choice.mood 0cb83cac64
    calls simulator.kernels.draws.binomial 7604165db1
    calls simulator.kernels.draws.multinomial f467c54bb5
    calls simulator.kernels.draws.normal 1d9a3451d9
    calls simulator.kernels.handles._as_generator_compiled.<locals>.from_addresses e80e0196c1
    calls simulator.kernels.numeric.search_bucketed d7d5ae75e8
    calls simulator.kernels.publishing._no_outputs e3b0c44298
    calls simulator.kernels.speech.draw_speech fd3f1ae2cb
    calls simulator.kernels.speech.speak b049906c85
kernel simulator.kernels.publishing.resolve_authors
    seconds 4.03
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg int64
    arg array(float64, 2d, C)
    arg array(int64, 2d, C)
    arg int64
    arg BenignGroups(array(float64, 2d, C), array(float64, 2d, C), array(int32, 1d, C), array(int32, 1d, C), array(float64, 1d, C), array(float64, 2d, C), array(float64, 2d, C), int64)
    arg int64
    calls simulator.kernels.numeric.bucket_index db80294162
    calls simulator.kernels.speech.find_authors 05ce97157c
kernel simulator.kernels.queue.append_pending
    seconds 0.15
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg float64
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg int64
kernel simulator.kernels.queue.level_arrivals
    seconds 0.44
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.queue.line_has_room
    seconds 0.10
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.queue.register_levels
    seconds 0.25
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.queue.submissions_in_order
    seconds 2.18
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(float64, 1d, C)
    arg int64
    arg int64
    calls simulator.kernels.numeric.merge_argsort 921f453fc9
    calls simulator.kernels.queue.arrival_order a92b13d5f3
    calls simulator.kernels.queue.stable_order 921f453fc9
kernel simulator.kernels.queue.take_pending
    seconds 1.75
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg int64
    arg float64
    calls simulator.kernels.numeric.merge_argsort 921f453fc9
    calls simulator.kernels.queue.stable_order 921f453fc9
kernel simulator.kernels.review.book_review
    seconds 1.01
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
    arg array(int16, 1d, C)
    arg array(int8, 1d, C)
    arg array(int8, 1d, C)
    arg array(int8, 1d, C)
    arg array(int32, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(int8, 1d, C)
    arg array(bool, 1d, C)
    arg array(int64, 5d, C)
    arg array(int64, 2d, C)
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
kernel simulator.kernels.review.created_line_room
    seconds 0.87
    profiles rules-large rules-small
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
    arg int64
    calls simulator.kernels.queue.level_arrivals 97652f50a1
    calls simulator.kernels.queue.level_arrivals d2e6db18d5
kernel simulator.kernels.review.review_day
    seconds 5.61
    profiles rules-large rules-small
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg float64
    arg int64
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg array(float64, 1d, C)
    arg array(int64, 2d, C)
    arg array(float64, 1d, C)
    arg array(int64, 1d, C)
    arg float64
    arg float64
    arg array(float32, 1d, C)
    arg array(float32, 1d, C)
    arg array(float64, 1d, C)
    arg array(int8, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(int8, 1d, C)
    arg int64
    arg FollowOns(bool, bool, float64, array(float64, 1d, C), array(float64, 1d, C), array(float64, 1d, C), array(float64, 1d, C), array(float64, 1d, C), array(int64, 1d, C), array(int64, 1d, C), array(int64, 1d, C), int64, int64)
    calls simulator.kernels.arrivals.sweep_time 0cb83cac64
    calls simulator.kernels.queue.finish_pop db80294162
    calls simulator.kernels.queue.finish_push 26e4dc3479
    calls simulator.kernels.queue.follow_pop 17d6f47872
    calls simulator.kernels.queue.follow_push 5e6f951022
    calls simulator.kernels.queue.level_arrivals 97652f50a1
    calls simulator.kernels.queue.level_arrivals d2e6db18d5
    calls simulator.kernels.queue.line_has_room bcec41fc20
    calls simulator.kernels.queue.line_pop eeae769db5
    calls simulator.kernels.queue.line_push 39136c91cb
    calls simulator.kernels.review.created_line_room 58512d9d00
kernel simulator.kernels.routes.fill_routes
    seconds 0.35
    profiles free-large free-small rules-large rules-small
    arg array(int16, 1d, C)
    arg array(int8, 1d, C)
    arg array(bool, 1d, C)
    arg int64
    arg array(int16, 1d, C)
    arg array(int64, 1d, C)
    calls simulator.kernels.numeric.count_values a85fe4eb83
kernel simulator.kernels.sanctions.apply_exits
    seconds 0.12
    profiles rules-large rules-small
    arg array(int64, 1d, C)
    arg array(float64, 1d, C)
    arg float64
    arg float64
    arg array(int8, 1d, C)
kernel simulator.kernels.sanctions.apply_strikes
    seconds 1.40
    profiles rules-large rules-small
    arg array(int64, 1d, C)
    arg int64
    arg array(int16, 1d, C)
    arg array(int32, 1d, C)
    arg array(int8, 1d, C)
    arg array(int16, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int64, 1d, C)
    arg array(int8, 1d, C)
    calls simulator.kernels.sanctions.strikes_in_force 716c3a9de6
kernel simulator.kernels.sanctions.recount_exclusions
    seconds 0.43
    profiles free-large free-small rules-large rules-small
    arg array(int8, 1d, C)
    arg array(int8, 1d, C)
    arg array(int16, 1d, C)
    arg array(bool, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 2d, C)
    arg array(int8, 1d, C)
    arg array(int64, 1d, C)
    arg array(float64, 3d, C)
    calls simulator.kernels.sanctions._add_weights a24d8276fd
    calls simulator.kernels.sanctions.exclusion_reason 44b92872ba
kernel simulator.kernels.sanctions.renew_slots
    seconds 0.32
    profiles free-large free-small rules-large rules-small
    arg array(int64, 1d, C)
    arg array(int8, 1d, C)
    arg array(int16, 1d, C)
    arg array(int32, 1d, C)
    arg array(int32, 1d, C)
    arg array(int8, 1d, C)
    arg array(bool, 1d, C)
    arg array(int16, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 1d, C)
    arg bool
    arg float64
    arg array(float64, 1d, C)
    arg float64
kernel simulator.kernels.sanctions.update_exclusions
    seconds 0.59
    profiles free-large free-small rules-large rules-small
    arg array(int64, 1d, C)
    arg array(int8, 1d, C)
    arg array(int8, 1d, C)
    arg array(int16, 1d, C)
    arg array(bool, 1d, C)
    arg array(float64, 1d, C)
    arg array(float64, 2d, C)
    arg array(int8, 1d, C)
    arg array(int64, 1d, C)
    arg array(float64, 3d, C)
    calls simulator.kernels.sanctions._add_weights a24d8276fd
    calls simulator.kernels.sanctions._add_weights a2884721f0
    calls simulator.kernels.sanctions.exclusion_reason 44b92872ba
kernel simulator.kernels.speech.draw_speech_day
    seconds 4.46
    profiles rules-large rules-small
    arg readonly array(uint64, 1d, C)
    arg array(float64, 2d, C)
    arg float64
    arg array(float64, 2d, C)
    arg array(int64, 2d, C)
    arg array(int64, 1d, C)
    arg int64
    arg array(float32, 1d, C)
    arg float64
    calls simulator.kernels.choice.mood 0cb83cac64
    calls simulator.kernels.handles._as_generator_compiled.<locals>.from_addresses e80e0196c1
    calls simulator.kernels.numeric.search_bucketed d7d5ae75e8
    calls simulator.kernels.speech.draw_speech fd3f1ae2cb
    calls simulator.kernels.speech.speak b049906c85
"""
