;; The filter gradient of a stride-1, dilation-1 convolution (filter-grad-simd.ts), in WebAssembly with 128-bit SIMD.
;;
;; With `xp` the input zero-padded to the frame [B, Hp, Wp, Ci] (Hp = OH + KH − 1, Wp = OW + KW − 1) and `dy` the
;; output gradient [B, OH, OW, Co], both NHWC float32:
;;
;;   dw[kh, kw, ci, co] += Σ_{b, y, x} xp[b, y + kh, x + kw, ci] · dy[b, y, x, co]
;;
;; One output row at a time, so that the row of dy, the KH rows of xp it meets and dw stay in the L1 cache. For
;; every tap and every block of 4 input × 8 output channels, 8 accumulators (4 × two f32x4) run
;; along the row from zero (per pixel: two loads of dy, four splats of xp, 8 multiply-adds) and added to dw: sums of
;; one row each, then of rows, which keeps a reduction over many pixels accurate. Ci must be a
;; multiple of 4 and Co of 8; dw is accumulated into (the caller zeroes it). Sums run in the order of the pixels, so
;; the result is the same on every run.
(module
  (memory (export "memory") 1)

  ;; filter_grad(xp, dy, dw, batch, oh, ow, kh, kw, ci, co): byte addresses, 16-byte aligned, and the geometry.
  (func (export "filter_grad")
    (param $xp i32) (param $dy i32) (param $dw i32)
    (param $batch i32) (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $ci i32) (param $co i32)
    (local $hp i32) (local $wp i32) (local $xStride i32) (local $dyStride i32)
    (local $b i32) (local $y i32) (local $i i32) (local $j i32) (local $c i32) (local $o i32)
    (local $dyRow i32) (local $xTap i32) (local $w i32) (local $px i32) (local $pd i32) (local $end i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $d0 v128) (local $d1 v128) (local $s v128)
    (local.set $hp (i32.sub (i32.add (local.get $oh) (local.get $kh)) (i32.const 1)))
    (local.set $wp (i32.sub (i32.add (local.get $ow) (local.get $kw)) (i32.const 1)))
    (local.set $xStride (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $dyStride (i32.shl (local.get $co) (i32.const 2)))
    (local.set $b (i32.const 0))
    (loop $images
      (local.set $y (i32.const 0))
      (loop $rows
        ;; dy[b, y, 0, 0]
        (local.set $dyRow
          (i32.add (local.get $dy)
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow))
              (local.get $dyStride))))
        (local.set $w (local.get $dw))
        (local.set $i (i32.const 0))
        (loop $tapRows
          (local.set $j (i32.const 0))
          (loop $tapCols
            ;; xp[b, y + i, j, 0]
            (local.set $xTap
              (i32.add (local.get $xp)
                (i32.mul
                  (i32.add
                    (i32.mul (i32.add (i32.add (i32.mul (local.get $b) (local.get $hp)) (local.get $y)) (local.get $i)) (local.get $wp))
                    (local.get $j))
                  (local.get $xStride))))
            (local.set $c (i32.const 0))
            (loop $inBlocks
              (local.set $o (i32.const 0))
              (loop $outBlocks
                ;; $w: dw[i, j, c, o]; the four rows c … c + 3 are Co floats apart.
                (local.set $a00 (v128.const i64x2 0 0))
                (local.set $a01 (v128.const i64x2 0 0))
                (local.set $a10 (v128.const i64x2 0 0))
                (local.set $a11 (v128.const i64x2 0 0))
                (local.set $a20 (v128.const i64x2 0 0))
                (local.set $a21 (v128.const i64x2 0 0))
                (local.set $a30 (v128.const i64x2 0 0))
                (local.set $a31 (v128.const i64x2 0 0))
                (local.set $px (i32.add (local.get $xTap) (i32.shl (local.get $c) (i32.const 2))))
                (local.set $pd (i32.add (local.get $dyRow) (i32.shl (local.get $o) (i32.const 2))))
                (local.set $end (i32.add (local.get $pd) (i32.mul (local.get $ow) (local.get $dyStride))))
                (loop $pixels
                  (local.set $d0 (v128.load (local.get $pd)))
                  (local.set $d1 (v128.load offset=16 (local.get $pd)))
                  (local.set $s (v128.load32_splat (local.get $px)))
                  (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (v128.load32_splat offset=4 (local.get $px)))
                  (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (v128.load32_splat offset=8 (local.get $px)))
                  (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $s (v128.load32_splat offset=12 (local.get $px)))
                  (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $d0))))
                  (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $d1))))
                  (local.set $px (i32.add (local.get $px) (local.get $xStride)))
                  (local.set $pd (i32.add (local.get $pd) (local.get $dyStride)))
                  (br_if $pixels (i32.lt_u (local.get $pd) (local.get $end))))
                (v128.store (local.get $w) (f32x4.add (v128.load (local.get $w)) (local.get $a00)))
                (v128.store offset=16 (local.get $w) (f32x4.add (v128.load offset=16 (local.get $w)) (local.get $a01)))
                (v128.store (i32.add (local.get $w) (local.get $dyStride)) (f32x4.add (v128.load (i32.add (local.get $w) (local.get $dyStride))) (local.get $a10)))
                (v128.store offset=16 (i32.add (local.get $w) (local.get $dyStride)) (f32x4.add (v128.load offset=16 (i32.add (local.get $w) (local.get $dyStride))) (local.get $a11)))
                (v128.store (i32.add (local.get $w) (i32.shl (local.get $dyStride) (i32.const 1))) (f32x4.add (v128.load (i32.add (local.get $w) (i32.shl (local.get $dyStride) (i32.const 1)))) (local.get $a20)))
                (v128.store offset=16 (i32.add (local.get $w) (i32.shl (local.get $dyStride) (i32.const 1))) (f32x4.add (v128.load offset=16 (i32.add (local.get $w) (i32.shl (local.get $dyStride) (i32.const 1)))) (local.get $a21)))
                (v128.store (i32.add (local.get $w) (i32.mul (local.get $dyStride) (i32.const 3))) (f32x4.add (v128.load (i32.add (local.get $w) (i32.mul (local.get $dyStride) (i32.const 3)))) (local.get $a30)))
                (v128.store offset=16 (i32.add (local.get $w) (i32.mul (local.get $dyStride) (i32.const 3))) (f32x4.add (v128.load offset=16 (i32.add (local.get $w) (i32.mul (local.get $dyStride) (i32.const 3)))) (local.get $a31)))
                (local.set $w (i32.add (local.get $w) (i32.const 32)))
                (local.set $o (i32.add (local.get $o) (i32.const 8)))
                (br_if $outBlocks (i32.lt_u (local.get $o) (local.get $co))))
              ;; past the 8·k columns of row c: on to row c + 4
              (local.set $w (i32.add (local.get $w) (i32.mul (local.get $dyStride) (i32.const 3))))
              (local.set $c (i32.add (local.get $c) (i32.const 4)))
              (br_if $inBlocks (i32.lt_u (local.get $c) (local.get $ci))))
            (local.set $j (i32.add (local.get $j) (i32.const 1)))
            (br_if $tapCols (i32.lt_u (local.get $j) (local.get $kw))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br_if $tapRows (i32.lt_u (local.get $i) (local.get $kh))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $y) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $batch))))))
