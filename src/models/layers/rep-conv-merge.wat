;; The three matrix products of a RepConv2D merge and its gradient (rep-conv.ts: the expand → 3×3 branch), in
;; WebAssembly with 128-bit SIMD on float64 pairs. Every sum runs over the same terms in the same order as the plain
;; loops in rep-conv.ts, in float64 as JavaScript computes them (the products of two float32 values are exact in
;; float64), so the results are the same bits; only independent sums share a vector, eight at a time in four
;; accumulators. Layouts (float32 inputs, float64 outputs, byte offsets; rep-conv.ts lays out the memory):
;;   ex [cin, mid]      sq [9, mid, cout]      sqT [9, cout, mid] (sq with its last two axes swapped)
;;   g  [9, cin, cout]  (the gradient of the merged kernel)
;; `cout` and `mid` must be multiples of 8.
(module
  (memory (export "memory") 1)

  ;; product(ex, sq, out, cin, cout, mid): out[t, i, o] = Σ_m ex[i, m] · sq[t, m, o], m ascending; eight o at a time.
  (func (export "product") (param $ex i32) (param $sq i32) (param $out i32) (param $cin i32) (param $cout i32) (param $mid i32)
    (local $t i32) (local $i i32) (local $o i32) (local $m i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $exAt i32) (local $sqAt i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $t (i32.const 0))
    (loop $tLoop
      (local.set $i (i32.const 0))
      (loop $iLoop
        (local.set $o (i32.const 0))
        (loop $oLoop
          (local.set $a0 (v128.const f64x2 0 0))
          (local.set $a1 (v128.const f64x2 0 0))
          (local.set $a2 (v128.const f64x2 0 0))
          (local.set $a3 (v128.const f64x2 0 0))
          ;; ex[i, 0] and sq[t, 0, o]
          (local.set $exAt (i32.add (local.get $ex) (i32.shl (i32.mul (local.get $i) (local.get $mid)) (i32.const 2))))
          (local.set $sqAt (i32.add (local.get $sq)
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $t) (local.get $mid)) (local.get $cout)) (local.get $o)) (i32.const 2))))
          (local.set $m (i32.const 0))
          (loop $mLoop
            (local.set $s (f64x2.splat (f64.promote_f32 (f32.load (local.get $exAt)))))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $sqAt))))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $sqAt))))))
            (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $sqAt))))))
            (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $sqAt))))))
            (local.set $exAt (i32.add (local.get $exAt) (i32.const 4)))
            (local.set $sqAt (i32.add (local.get $sqAt) (local.get $rowBytes)))
            (br_if $mLoop (i32.lt_u (local.tee $m (i32.add (local.get $m) (i32.const 1))) (local.get $mid))))
          (v128.store offset=0 (local.get $out) (local.get $a0))
          (v128.store offset=16 (local.get $out) (local.get $a1))
          (v128.store offset=32 (local.get $out) (local.get $a2))
          (v128.store offset=48 (local.get $out) (local.get $a3))
          (local.set $out (i32.add (local.get $out) (i32.const 64)))
          (br_if $oLoop (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 8))) (local.get $cout))))
        (br_if $iLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $cin))))
      (br_if $tLoop (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (i32.const 9)))))

  ;; dex(g, sqT, out, cin, cout, mid): out[i, m] = Σ_t Σ_o g[t, i, o] · sq[t, m, o], t then o ascending; eight m at a
  ;; time (from sqT, where they are adjacent).
  (func (export "dex") (param $g i32) (param $sqT i32) (param $out i32) (param $cin i32) (param $cout i32) (param $mid i32)
    (local $t i32) (local $i i32) (local $o i32) (local $m i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $gAt i32) (local $sAt i32) (local $midBytes i32)
    (local.set $midBytes (i32.shl (local.get $mid) (i32.const 2)))
    (local.set $i (i32.const 0))
    (loop $iLoop
      (local.set $m (i32.const 0))
      (loop $mLoop
          (local.set $a0 (v128.const f64x2 0 0))
          (local.set $a1 (v128.const f64x2 0 0))
          (local.set $a2 (v128.const f64x2 0 0))
          (local.set $a3 (v128.const f64x2 0 0))
        (local.set $t (i32.const 0))
        (loop $tLoop
          ;; g[t, i, 0] and sqT[t, 0, m]
          (local.set $gAt (i32.add (local.get $g)
            (i32.shl (i32.mul (i32.add (i32.mul (local.get $t) (local.get $cin)) (local.get $i)) (local.get $cout)) (i32.const 2))))
          (local.set $sAt (i32.add (local.get $sqT)
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $t) (local.get $cout)) (local.get $mid)) (local.get $m)) (i32.const 2))))
          (local.set $o (i32.const 0))
          (loop $oLoop
            (local.set $s (f64x2.splat (f64.promote_f32 (f32.load (local.get $gAt)))))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $sAt))))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $sAt))))))
            (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $sAt))))))
            (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $sAt))))))
            (local.set $gAt (i32.add (local.get $gAt) (i32.const 4)))
            (local.set $sAt (i32.add (local.get $sAt) (local.get $midBytes)))
            (br_if $oLoop (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 1))) (local.get $cout))))
          (br_if $tLoop (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (i32.const 9))))
        (v128.store offset=0 (local.get $out) (local.get $a0))
        (v128.store offset=16 (local.get $out) (local.get $a1))
        (v128.store offset=32 (local.get $out) (local.get $a2))
        (v128.store offset=48 (local.get $out) (local.get $a3))
        (local.set $out (i32.add (local.get $out) (i32.const 64)))
        (br_if $mLoop (i32.lt_u (local.tee $m (i32.add (local.get $m) (i32.const 8))) (local.get $mid))))
      (br_if $iLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $cin)))))

  ;; dsq(ex, g, out, cin, cout, mid): out[t, m, o] = Σ_i ex[i, m] · g[t, i, o], i ascending; eight o at a time.
  (func (export "dsq") (param $ex i32) (param $g i32) (param $out i32) (param $cin i32) (param $cout i32) (param $mid i32)
    (local $t i32) (local $i i32) (local $o i32) (local $m i32) (local $s v128) (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
    (local $gAt i32) (local $eAt i32) (local $rowBytes i32) (local $midBytes i32)
    (local.set $rowBytes (i32.shl (local.get $cout) (i32.const 2)))
    (local.set $midBytes (i32.shl (local.get $mid) (i32.const 2)))
    (local.set $t (i32.const 0))
    (loop $tLoop
      (local.set $m (i32.const 0))
      (loop $mLoop
        (local.set $o (i32.const 0))
        (loop $oLoop
          (local.set $a0 (v128.const f64x2 0 0))
          (local.set $a1 (v128.const f64x2 0 0))
          (local.set $a2 (v128.const f64x2 0 0))
          (local.set $a3 (v128.const f64x2 0 0))
          ;; g[t, 0, o] and ex[0, m]
          (local.set $gAt (i32.add (local.get $g)
            (i32.shl (i32.add (i32.mul (i32.mul (local.get $t) (local.get $cin)) (local.get $cout)) (local.get $o)) (i32.const 2))))
          (local.set $eAt (i32.add (local.get $ex) (i32.shl (local.get $m) (i32.const 2))))
          (local.set $i (i32.const 0))
          (loop $iLoop
            (local.set $s (f64x2.splat (f64.promote_f32 (f32.load (local.get $eAt)))))
            (local.set $a0 (f64x2.add (local.get $a0) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=0 (local.get $gAt))))))
            (local.set $a1 (f64x2.add (local.get $a1) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=8 (local.get $gAt))))))
            (local.set $a2 (f64x2.add (local.get $a2) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=16 (local.get $gAt))))))
            (local.set $a3 (f64x2.add (local.get $a3) (f64x2.mul (local.get $s) (f64x2.promote_low_f32x4 (v128.load64_zero offset=24 (local.get $gAt))))))
            (local.set $gAt (i32.add (local.get $gAt) (local.get $rowBytes)))
            (local.set $eAt (i32.add (local.get $eAt) (local.get $midBytes)))
            (br_if $iLoop (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $cin))))
          (v128.store offset=0 (local.get $out) (local.get $a0))
          (v128.store offset=16 (local.get $out) (local.get $a1))
          (v128.store offset=32 (local.get $out) (local.get $a2))
          (v128.store offset=48 (local.get $out) (local.get $a3))
          (local.set $out (i32.add (local.get $out) (i32.const 64)))
          (br_if $oLoop (i32.lt_u (local.tee $o (i32.add (local.get $o) (i32.const 8))) (local.get $cout))))
        (br_if $mLoop (i32.lt_u (local.tee $m (i32.add (local.get $m) (i32.const 1))) (local.get $mid))))
      (br_if $tLoop (i32.lt_u (local.tee $t (i32.add (local.get $t) (i32.const 1))) (i32.const 9)))))
)
