;; The training kernels sharpen-kd runs on the TF.js wasm backend's own heap (heap-simd.ts), in WebAssembly with
;; 128-bit SIMD. The module imports the backend's memory, so the kernels read and write tensors where they lie;
;; scripts/build-wasm.ts also builds it for a shared memory (the backend's threaded build).
;;
;; filter_grad: the filter gradient of a stride-1, dilation-1 convolution (filter-grad-simd.ts). With `xp` the input
;; zero-padded to the frame [B, Hp, Wp, Ci] (Hp = OH + KH − 1, Wp = OW + KW − 1) and `dy` the output gradient
;; [B, OH, OW, Co], both NHWC float32:
;;
;;   dw[kh, kw, ci, co] += Σ_{b, y, x} xp[b, y + kh, x + kw, ci] · dy[b, y, x, co]
;;
;; One output row at a time, so that the row of dy, the KH rows of xp it meets and dw stay in the L1 cache. For every
;; tap and every block of 4 input × 8 output channels, 8 accumulators (4 × two f32x4) run along the row from zero (per
;; pixel: two loads of dy, four splats of xp, 8 multiply-adds) and are added to dw: sums of one row each, then of
;; rows, which keeps a reduction over many pixels accurate. Ci must be a multiple of 4 and Co of 8; dw is accumulated
;; into (the caller zeroes it).
;;
;; conv: a stride-1, dilation-1 convolution (conv-simd.ts), on the same padded frame, for the forward pass and the input
;; gradient (a convolution of dy with the flipped filter); Ci a multiple of 4, Co of 8. Each output is summed in the
;; order of the taps and input channels.
;;
;; prelu: the PReLU itself (prelu.ts) for one alpha per channel, C a multiple of 4, in the form whose bits are those
;; of the backend's own kernel (a zero in gives +0 out, whatever its sign):
;;
;;   y = max(x, 0) + alpha · min(x, 0)
;;
;; prelu_dx, prelu_dalpha: the PReLU gradient (prelu-grad.ts) for one alpha per channel, C a multiple of 4:
;;
;;   dx = x > 0 ? dy : alpha · dy                  dalpha[c] = Σ dy · min(x, 0) over the pixels
;;
;; dalpha sums 64 pixels at a time in float32, then the partial sums in float64.
;;
;; rgb_to_y, rgb_to_y_grad: the luma of interleaved RGB and its gradient (rgb-to-y.ts), with the weights as arguments:
;;
;;   y = ((r · wr + g · wg) + b · wb) + offset        dx[3i + c] = dy[i] · w_c
;;
;; each operation rounded to float32, as TF.js's wasm kernels compute the same expression (metrics/y-channel.ts).
;;
;; column_sum: `out[j] = Σ_r x[r, j]` over the rows of an [R, C] matrix, C a multiple of 4 (sum.ts: bias gradients),
;; 64 rows at a time in float32, then those partial sums in float64, as prelu_dalpha.
;;
;; add_pixel_broadcast: `out[p, j] = a[p] + b[p, j]`, the `Add` of one value per pixel to every channel of that
;; pixel (add-pixel-broadcast.ts: a luma detail added to the upsampled RGB image).
;;
;; Every sum runs in a fixed order, so the results are the same on every run.
(module
  (import "env" "memory" (memory 1))

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
      (br_if $images (i32.lt_u (local.get $b) (local.get $batch)))))

  ;; conv(xp, w, bias, out, batch, oh, ow, kh, kw, ci, co): out[b, y, x, o] = bias[o] (0 when bias is 0) +
  ;; Σ_{i, j, c} xp[b, y + i, x + j, c] · w[i, j, c, o], with xp the input zero-padded to [B, OH + KH − 1, OW + KW − 1,
  ;; Ci] and w [KH, KW, Ci, Co]. Blocks of 4 pixels × 8 output channels (8 accumulators; per tap and input channel:
  ;; two loads of w, four splats of xp, 8 multiply-adds), then single pixels for the rest of a row.
  (func (export "conv")
    (param $xp i32) (param $w i32) (param $bias i32) (param $out i32)
    (param $batch i32) (param $oh i32) (param $ow i32) (param $kh i32) (param $kw i32) (param $ci i32) (param $co i32)
    (local $hp i32) (local $wp i32) (local $xStride i32) (local $oStride i32) (local $tapStride i32)
    (local $b i32) (local $y i32) (local $o i32) (local $x i32) (local $i i32) (local $j i32)
    (local $xRow i32) (local $px i32) (local $pw i32) (local $pwEnd i32) (local $po i32) (local $x4 i32)
    (local $a00 v128) (local $a01 v128) (local $a10 v128) (local $a11 v128)
    (local $a20 v128) (local $a21 v128) (local $a30 v128) (local $a31 v128)
    (local $b0 v128) (local $b1 v128) (local $w0 v128) (local $w1 v128) (local $s v128)
    (local.set $hp (i32.sub (i32.add (local.get $oh) (local.get $kh)) (i32.const 1)))
    (local.set $wp (i32.sub (i32.add (local.get $ow) (local.get $kw)) (i32.const 1)))
    (local.set $xStride (i32.shl (local.get $ci) (i32.const 2)))
    (local.set $oStride (i32.shl (local.get $co) (i32.const 2)))
    ;; bytes of w per input channel block: one row of Co floats per input channel
    (local.set $tapStride (i32.mul (local.get $ci) (local.get $oStride)))
    ;; the last x at which a block of 4 pixels starts
    (local.set $x4 (i32.sub (local.get $ow) (i32.const 3)))
    (local.set $b (i32.const 0))
    (loop $images
      (local.set $y (i32.const 0))
      (loop $rows
        ;; xp[b, y, 0, 0] and out[b, y, 0, 0]
        (local.set $xRow
          (i32.add (local.get $xp)
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $hp)) (local.get $y)) (local.get $wp)) (local.get $xStride))))
        (local.set $po
          (i32.add (local.get $out)
            (i32.mul (i32.mul (i32.add (i32.mul (local.get $b) (local.get $oh)) (local.get $y)) (local.get $ow)) (local.get $oStride))))
        (local.set $o (i32.const 0))
        (loop $outBlocks
          (if (local.get $bias)
            (then
              (local.set $b0 (v128.load (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2)))))
              (local.set $b1 (v128.load offset=16 (i32.add (local.get $bias) (i32.shl (local.get $o) (i32.const 2))))))
            (else
              (local.set $b0 (v128.const i64x2 0 0))
              (local.set $b1 (v128.const i64x2 0 0))))
          (local.set $x (i32.const 0))
          ;; blocks of 4 pixels
          (block $fours
            (loop $four
              (br_if $fours (i32.ge_s (local.get $x) (local.get $x4)))
              (local.set $a00 (local.get $b0)) (local.set $a01 (local.get $b1))
              (local.set $a10 (local.get $b0)) (local.set $a11 (local.get $b1))
              (local.set $a20 (local.get $b0)) (local.set $a21 (local.get $b1))
              (local.set $a30 (local.get $b0)) (local.set $a31 (local.get $b1))
              (local.set $i (i32.const 0))
              (loop $tapRows
                (local.set $j (i32.const 0))
                (loop $tapCols
                  ;; xp[b, y + i, x + j, 0]; w[i, j, 0, o]
                  (local.set $px
                    (i32.add (local.get $xRow)
                      (i32.mul
                        (i32.add (i32.mul (local.get $i) (local.get $wp)) (i32.add (local.get $x) (local.get $j)))
                        (local.get $xStride))))
                  (local.set $pw
                    (i32.add (local.get $w)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $tapStride))
                        (i32.shl (local.get $o) (i32.const 2)))))
                  (local.set $pwEnd (i32.add (local.get $pw) (local.get $tapStride)))
                  (loop $channels
                    (local.set $w0 (v128.load (local.get $pw)))
                    (local.set $w1 (v128.load offset=16 (local.get $pw)))
                    (local.set $s (v128.load32_splat (local.get $px)))
                    (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (local.get $w0))))
                    (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (local.get $w1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (local.get $xStride))))
                    (local.set $a10 (f32x4.add (local.get $a10) (f32x4.mul (local.get $s) (local.get $w0))))
                    (local.set $a11 (f32x4.add (local.get $a11) (f32x4.mul (local.get $s) (local.get $w1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (i32.shl (local.get $xStride) (i32.const 1)))))
                    (local.set $a20 (f32x4.add (local.get $a20) (f32x4.mul (local.get $s) (local.get $w0))))
                    (local.set $a21 (f32x4.add (local.get $a21) (f32x4.mul (local.get $s) (local.get $w1))))
                    (local.set $s (v128.load32_splat (i32.add (local.get $px) (i32.mul (local.get $xStride) (i32.const 3)))))
                    (local.set $a30 (f32x4.add (local.get $a30) (f32x4.mul (local.get $s) (local.get $w0))))
                    (local.set $a31 (f32x4.add (local.get $a31) (f32x4.mul (local.get $s) (local.get $w1))))
                    (local.set $px (i32.add (local.get $px) (i32.const 4)))
                    (local.set $pw (i32.add (local.get $pw) (local.get $oStride)))
                    (br_if $channels (i32.lt_u (local.get $pw) (local.get $pwEnd))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $tapCols (i32.lt_u (local.get $j) (local.get $kw))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $tapRows (i32.lt_u (local.get $i) (local.get $kh))))
              ;; out[b, y, x + p, o … o + 7]
              (local.set $px (i32.add (local.get $po) (i32.add (i32.mul (local.get $x) (local.get $oStride)) (i32.shl (local.get $o) (i32.const 2)))))
              (v128.store (local.get $px) (local.get $a00))
              (v128.store offset=16 (local.get $px) (local.get $a01))
              (local.set $px (i32.add (local.get $px) (local.get $oStride)))
              (v128.store (local.get $px) (local.get $a10))
              (v128.store offset=16 (local.get $px) (local.get $a11))
              (local.set $px (i32.add (local.get $px) (local.get $oStride)))
              (v128.store (local.get $px) (local.get $a20))
              (v128.store offset=16 (local.get $px) (local.get $a21))
              (local.set $px (i32.add (local.get $px) (local.get $oStride)))
              (v128.store (local.get $px) (local.get $a30))
              (v128.store offset=16 (local.get $px) (local.get $a31))
              (local.set $x (i32.add (local.get $x) (i32.const 4)))
              (br $four)))
          ;; the rest of the row, one pixel at a time
          (block $ones
            (loop $one
              (br_if $ones (i32.ge_u (local.get $x) (local.get $ow)))
              (local.set $a00 (local.get $b0)) (local.set $a01 (local.get $b1))
              (local.set $i (i32.const 0))
              (loop $tapRows1
                (local.set $j (i32.const 0))
                (loop $tapCols1
                  (local.set $px
                    (i32.add (local.get $xRow)
                      (i32.mul
                        (i32.add (i32.mul (local.get $i) (local.get $wp)) (i32.add (local.get $x) (local.get $j)))
                        (local.get $xStride))))
                  (local.set $pw
                    (i32.add (local.get $w)
                      (i32.add
                        (i32.mul (i32.add (i32.mul (local.get $i) (local.get $kw)) (local.get $j)) (local.get $tapStride))
                        (i32.shl (local.get $o) (i32.const 2)))))
                  (local.set $pwEnd (i32.add (local.get $pw) (local.get $tapStride)))
                  (loop $channels1
                    (local.set $s (v128.load32_splat (local.get $px)))
                    (local.set $a00 (f32x4.add (local.get $a00) (f32x4.mul (local.get $s) (v128.load (local.get $pw)))))
                    (local.set $a01 (f32x4.add (local.get $a01) (f32x4.mul (local.get $s) (v128.load offset=16 (local.get $pw)))))
                    (local.set $px (i32.add (local.get $px) (i32.const 4)))
                    (local.set $pw (i32.add (local.get $pw) (local.get $oStride)))
                    (br_if $channels1 (i32.lt_u (local.get $pw) (local.get $pwEnd))))
                  (local.set $j (i32.add (local.get $j) (i32.const 1)))
                  (br_if $tapCols1 (i32.lt_u (local.get $j) (local.get $kw))))
                (local.set $i (i32.add (local.get $i) (i32.const 1)))
                (br_if $tapRows1 (i32.lt_u (local.get $i) (local.get $kh))))
              (local.set $px (i32.add (local.get $po) (i32.add (i32.mul (local.get $x) (local.get $oStride)) (i32.shl (local.get $o) (i32.const 2)))))
              (v128.store (local.get $px) (local.get $a00))
              (v128.store offset=16 (local.get $px) (local.get $a01))
              (local.set $x (i32.add (local.get $x) (i32.const 1)))
              (br $one)))
          (local.set $o (i32.add (local.get $o) (i32.const 8)))
          (br_if $outBlocks (i32.lt_u (local.get $o) (local.get $co))))
        (local.set $y (i32.add (local.get $y) (i32.const 1)))
        (br_if $rows (i32.lt_u (local.get $y) (local.get $oh))))
      (local.set $b (i32.add (local.get $b) (i32.const 1)))
      (br_if $images (i32.lt_u (local.get $b) (local.get $batch)))))

  ;; prelu(x, alpha, y, pixels, c): byte addresses, 16-byte aligned.
  (func (export "prelu")
    (param $x i32) (param $alpha i32) (param $y i32) (param $pixels i32) (param $c i32)
    (local $end i32) (local $a i32) (local $aEnd i32) (local $v v128)
    (local.set $end (i32.add (local.get $y) (i32.shl (i32.mul (local.get $pixels) (local.get $c)) (i32.const 2))))
    (local.set $aEnd (i32.add (local.get $alpha) (i32.shl (local.get $c) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (local.set $a (local.get $alpha))
        (loop $block
          (local.set $v (v128.load (local.get $x)))
          (v128.store (local.get $y)
            (f32x4.add (f32x4.max (local.get $v) (v128.const f32x4 0 0 0 0))
              (f32x4.mul (v128.load (local.get $a)) (f32x4.min (local.get $v) (v128.const f32x4 0 0 0 0)))))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $y (i32.add (local.get $y) (i32.const 16)))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (br_if $block (i32.lt_u (local.get $a) (local.get $aEnd))))
        (br $pixel))))

  ;; prelu_dx(dy, x, alpha, dx, pixels, c): byte addresses, 16-byte aligned.
  (func (export "prelu_dx")
    (param $dy i32) (param $x i32) (param $alpha i32) (param $dx i32) (param $pixels i32) (param $c i32)
    (local $end i32) (local $a i32) (local $aEnd i32) (local $g v128)
    (local.set $end (i32.add (local.get $dx) (i32.shl (i32.mul (local.get $pixels) (local.get $c)) (i32.const 2))))
    (local.set $aEnd (i32.add (local.get $alpha) (i32.shl (local.get $c) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $dx) (local.get $end)))
        (local.set $a (local.get $alpha))
        (loop $block
          (local.set $g (v128.load (local.get $dy)))
          (v128.store (local.get $dx)
            (v128.bitselect (local.get $g) (f32x4.mul (local.get $g) (v128.load (local.get $a)))
              (f32x4.gt (v128.load (local.get $x)) (v128.const f32x4 0 0 0 0))))
          (local.set $dy (i32.add (local.get $dy) (i32.const 16)))
          (local.set $x (i32.add (local.get $x) (i32.const 16)))
          (local.set $dx (i32.add (local.get $dx) (i32.const 16)))
          (local.set $a (i32.add (local.get $a) (i32.const 16)))
          (br_if $block (i32.lt_u (local.get $a) (local.get $aEnd))))
        (br $pixel))))

  ;; prelu_dalpha(dy, x, acc, dalpha, pixels, c): acc is scratch for c float64 sums (8-byte aligned), dalpha gets c
  ;; float32 values.
  (func (export "prelu_dalpha")
    (param $dy i32) (param $x i32) (param $acc i32) (param $dalpha i32) (param $pixels i32) (param $c i32)
    (local $rowBytes i32) (local $k i32) (local $chunk i32) (local $j i32) (local $p i32) (local $q i32)
    (local $s v128) (local $v v128)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    ;; acc = 0
    (local.set $j (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $j) (local.get $c)))
        (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $zero)))
    (local.set $k (i32.const 0))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $k) (local.get $pixels)))
        (local.set $chunk (i32.sub (local.get $pixels) (local.get $k)))
        (if (i32.gt_u (local.get $chunk) (i32.const 64)) (then (local.set $chunk (i32.const 64))))
        ;; for each block of 4 channels: the chunk's float32 sum, added to acc in float64
        (local.set $j (i32.const 0))
        (loop $block
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $q (i32.add (i32.mul (local.get $k) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2))))
          (local.set $p (i32.const 0))
          (loop $pixel
            (local.set $v (f32x4.min (v128.load (i32.add (local.get $x) (local.get $q))) (v128.const f32x4 0 0 0 0)))
            (local.set $s (f32x4.add (local.get $s) (f32x4.mul (v128.load (i32.add (local.get $dy) (local.get $q))) (local.get $v))))
            (local.set $q (i32.add (local.get $q) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $pixel (i32.lt_u (local.get $p) (local.get $chunk))))
          (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $s))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add (v128.load offset=16 (local.get $q))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $block (i32.lt_u (local.get $j) (local.get $c))))
        (local.set $k (i32.add (local.get $k) (local.get $chunk)))
        (br $chunks)))
    ;; dalpha = float32(acc)
    (local.set $j (i32.const 0))
    (block $written
      (loop $write
        (br_if $written (i32.ge_u (local.get $j) (local.get $c)))
        (f32.store (i32.add (local.get $dalpha) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $write))))

  ;; rgb_to_y(x, y, pixels, wr, wg, wb, offset): x interleaved RGB, y one value per pixel.
  (func (export "rgb_to_y")
    (param $x i32) (param $y i32) (param $pixels i32) (param $wr f32) (param $wg f32) (param $wb f32) (param $off f32)
    (local $end i32)
    (local.set $end (i32.add (local.get $y) (i32.shl (local.get $pixels) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $y) (local.get $end)))
        (f32.store (local.get $y)
          (f32.add
            (f32.add
              (f32.add (f32.mul (f32.load (local.get $x)) (local.get $wr)) (f32.mul (f32.load offset=4 (local.get $x)) (local.get $wg)))
              (f32.mul (f32.load offset=8 (local.get $x)) (local.get $wb)))
            (local.get $off)))
        (local.set $x (i32.add (local.get $x) (i32.const 12)))
        (local.set $y (i32.add (local.get $y) (i32.const 4)))
        (br $pixel))))

  ;; rgb_to_y_grad(dy, dx, pixels, wr, wg, wb): dx interleaved RGB.
  (func (export "rgb_to_y_grad")
    (param $dy i32) (param $dx i32) (param $pixels i32) (param $wr f32) (param $wg f32) (param $wb f32)
    (local $end i32) (local $g f32)
    (local.set $end (i32.add (local.get $dy) (i32.shl (local.get $pixels) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $dy) (local.get $end)))
        (local.set $g (f32.load (local.get $dy)))
        (f32.store (local.get $dx) (f32.mul (local.get $g) (local.get $wr)))
        (f32.store offset=4 (local.get $dx) (f32.mul (local.get $g) (local.get $wg)))
        (f32.store offset=8 (local.get $dx) (f32.mul (local.get $g) (local.get $wb)))
        (local.set $dy (i32.add (local.get $dy) (i32.const 4)))
        (local.set $dx (i32.add (local.get $dx) (i32.const 12)))
        (br $pixel))))

  ;; add_pixel_broadcast(a, b, out, pixels, c): a one value per pixel, b and out c values per pixel.
  (func (export "add_pixel_broadcast")
    (param $a i32) (param $b i32) (param $out i32) (param $pixels i32) (param $c i32)
    (local $end i32) (local $rowEnd i32) (local $v f32) (local $row i32)
    (local.set $row (i32.shl (local.get $c) (i32.const 2)))
    (local.set $end (i32.add (local.get $a) (i32.shl (local.get $pixels) (i32.const 2))))
    (block $done
      (loop $pixel
        (br_if $done (i32.ge_u (local.get $a) (local.get $end)))
        (local.set $v (f32.load (local.get $a)))
        (local.set $rowEnd (i32.add (local.get $out) (local.get $row)))
        (loop $channel
          (f32.store (local.get $out) (f32.add (local.get $v) (f32.load (local.get $b))))
          (local.set $b (i32.add (local.get $b) (i32.const 4)))
          (local.set $out (i32.add (local.get $out) (i32.const 4)))
          (br_if $channel (i32.lt_u (local.get $out) (local.get $rowEnd))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $pixel))))

  ;; column_sum(x, acc, out, rows, c): acc is scratch for c float64 sums (8-byte aligned), out gets c float32 values.
  (func (export "column_sum")
    (param $x i32) (param $acc i32) (param $out i32) (param $rows i32) (param $c i32)
    (local $rowBytes i32) (local $k i32) (local $chunk i32) (local $j i32) (local $p i32) (local $q i32) (local $s v128)
    (local.set $rowBytes (i32.shl (local.get $c) (i32.const 2)))
    (local.set $j (i32.const 0))
    (block $zeroed
      (loop $zero
        (br_if $zeroed (i32.ge_u (local.get $j) (local.get $c)))
        (f64.store (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))) (f64.const 0))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $zero)))
    (local.set $k (i32.const 0))
    (block $done
      (loop $chunks
        (br_if $done (i32.ge_u (local.get $k) (local.get $rows)))
        (local.set $chunk (i32.sub (local.get $rows) (local.get $k)))
        (if (i32.gt_u (local.get $chunk) (i32.const 64)) (then (local.set $chunk (i32.const 64))))
        (local.set $j (i32.const 0))
        (loop $block
          (local.set $s (v128.const f32x4 0 0 0 0))
          (local.set $q (i32.add (local.get $x) (i32.add (i32.mul (local.get $k) (local.get $rowBytes)) (i32.shl (local.get $j) (i32.const 2)))))
          (local.set $p (i32.const 0))
          (loop $row
            (local.set $s (f32x4.add (local.get $s) (v128.load (local.get $q))))
            (local.set $q (i32.add (local.get $q) (local.get $rowBytes)))
            (local.set $p (i32.add (local.get $p) (i32.const 1)))
            (br_if $row (i32.lt_u (local.get $p) (local.get $chunk))))
          (local.set $q (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))
          (v128.store (local.get $q) (f64x2.add (v128.load (local.get $q)) (f64x2.promote_low_f32x4 (local.get $s))))
          (v128.store offset=16 (local.get $q)
            (f64x2.add (v128.load offset=16 (local.get $q))
              (f64x2.promote_low_f32x4 (i8x16.shuffle 8 9 10 11 12 13 14 15 0 1 2 3 4 5 6 7 (local.get $s) (local.get $s)))))
          (local.set $j (i32.add (local.get $j) (i32.const 4)))
          (br_if $block (i32.lt_u (local.get $j) (local.get $c))))
        (local.set $k (i32.add (local.get $k) (local.get $chunk)))
        (br $chunks)))
    (local.set $j (i32.const 0))
    (block $written
      (loop $write
        (br_if $written (i32.ge_u (local.get $j) (local.get $c)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $j) (i32.const 2)))
          (f32.demote_f64 (f64.load (i32.add (local.get $acc) (i32.shl (local.get $j) (i32.const 3))))))
        (local.set $j (i32.add (local.get $j) (i32.const 1)))
        (br $write))))
)
