;; The temporal filter's per-sample blend (temporal-filter.ts), in WebAssembly with 128-bit SIMD.
;;
;; For each of n samples: the model's 8-bit output y, the filter's state s (16-bit, 7 fractional bits: 0 … 255·128)
;; and the weight w of the previous output (Q15: 0 … 32767):
;;
;;   t = y · 128
;;   s ← t + round(w · (s − t) / 32768)      (i16x8.q15mulr_sat_s: (w·d + 2¹⁴) >> 15; |s − t| < 2¹⁵, no saturation)
;;   y ← (s + 64) >> 7                        (the state rounded to 8 bits, written over y)
;;
;; Eight samples at a time, then one at a time for the rest; `blendScalar` in temporal-filter.ts is the same
;; arithmetic in JavaScript, for engines without SIMD. `scripts/build-wasm.ts` compiles this file into
;; temporal-blend-wasm.ts; a test checks that the two agree.
(module
  (memory (export "memory") 1)

  ;; blend(y, s, w, n): y: n bytes, s and w: n 16-bit values (byte addresses; s and w 2-byte aligned).
  (func (export "blend") (param $y i32) (param $s i32) (param $w i32) (param $n i32)
    (local $end8 i32) (local $t v128) (local $v v128) (local $ts i32) (local $vs i32)
    (local.set $end8 (i32.add (local.get $y) (i32.and (local.get $n) (i32.const -8))))
    (local.set $n (i32.add (local.get $y) (local.get $n)))
    (block $done8
      (loop $eight
        (br_if $done8 (i32.ge_u (local.get $y) (local.get $end8)))
        (local.set $t (i16x8.shl (v128.load8x8_u (local.get $y)) (i32.const 7)))
        (local.set $v
          (i16x8.add (local.get $t)
            (i16x8.q15mulr_sat_s (i16x8.sub (v128.load (local.get $s)) (local.get $t)) (v128.load (local.get $w)))))
        (v128.store (local.get $s) (local.get $v))
        (local.set $v (i16x8.shr_u (i16x8.add (local.get $v) (i16x8.splat (i32.const 64))) (i32.const 7)))
        (v128.store64_lane 0 (local.get $y) (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
        (local.set $y (i32.add (local.get $y) (i32.const 8)))
        (local.set $s (i32.add (local.get $s) (i32.const 16)))
        (local.set $w (i32.add (local.get $w) (i32.const 16)))
        (br $eight)))
    (block $done
      (loop $one
        (br_if $done (i32.ge_u (local.get $y) (local.get $n)))
        (local.set $ts (i32.shl (i32.load8_u (local.get $y)) (i32.const 7)))
        (local.set $vs
          (i32.add (local.get $ts)
            (i32.shr_s
              (i32.add
                (i32.mul (i32.sub (i32.load16_u (local.get $s)) (local.get $ts)) (i32.load16_u (local.get $w)))
                (i32.const 16384))
              (i32.const 15))))
        (i32.store16 (local.get $s) (local.get $vs))
        (i32.store8 (local.get $y) (i32.shr_u (i32.add (local.get $vs) (i32.const 64)) (i32.const 7)))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (local.set $s (i32.add (local.get $s) (i32.const 2)))
        (local.set $w (i32.add (local.get $w) (i32.const 2)))
        (br $one))))

  ;; gather(src, index, dst, n): dst[i] = src[index[i]] for n 16-bit values; index holds n 32-bit byte offsets
  ;; into src. Spreads a row of per-pixel weights over the samples of a plane row.
  (func (export "gather") (param $src i32) (param $index i32) (param $dst i32) (param $n i32)
    (local $end i32)
    (local.set $end (i32.add (local.get $dst) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
        (i32.store16 (local.get $dst) (i32.load16_u (i32.add (local.get $src) (i32.load (local.get $index)))))
        (local.set $index (i32.add (local.get $index) (i32.const 4)))
        (local.set $dst (i32.add (local.get $dst) (i32.const 2)))
        (br $next)))))
