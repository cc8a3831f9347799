;; The output stage of a luma-detail student (residual bilinear upsample of the input + the net's luma detail), in
;; WebAssembly with 128-bit SIMD: what the model's graph does after the pixel shuffle (Resize, Add), and for video what
;; `i420-output.ts` does after that (Clip, then Y′CbCr and 4:2:0), in two passes over memory. luma-detail-tail.ts lays
;; out the memory and documents the arithmetic; the scales are 2 and 4.
;;
;; Bilinear ×s with half-pixel centres (ONNX Resize `half_pixel`, edges clamped) is separable: `hpass` upsamples the
;; rows of the padded input planes (one replicated pixel on every side) along x; then `rgb` interpolates those rows along
;; y for each output row and adds the detail (planar float RGB, the graph's output; `rgb_phases` the same from the
;; detail before its pixel shuffle), or `tail` does that, clamps to
;; [0, 1] (pmin / pmax: the inputs are never NaN), and writes Y for every pixel and Cb, Cr for every 2×2 block (from the
;; block's mean RGB), rounded to the nearest level (ties to even) and saturated, as QuantizeLinear.
(module
  (memory (export "memory") 1)

  ;; hpass(src, dst, w, rows, s): `rows` rows of w + 2 floats from `src` (a padded row: v[-1], v[0] … v[w-1], v[w]),
  ;; each upsampled to W = s·w floats at `dst` (rows back to back). Output pixel X = s·x + j samples the input at
  ;; x + (j + ½)/s − ½. Four output pixels at a time: for s = 4 they lie over v[x-1], v[x], v[x+1]; for s = 2 over
  ;; v[2q-1] … v[2q+2]. W must be a multiple of 4; the last row may read 4 bytes past its end.
  (func (export "hpass") (param $src i32) (param $dst i32) (param $w i32) (param $rows i32) (param $s i32)
    (local $r i32) (local $p i32) (local $end i32) (local $l v128) (local $a v128) (local $b v128) (local $g v128)
    (local $step i32) (local $rowBytes i32)
    (local.set $rowBytes (i32.shl (i32.add (local.get $w) (i32.const 2)) (i32.const 2)))
    (if (i32.eq (local.get $s) (i32.const 4))
      (then
        (local.set $step (i32.const 4))
        (local.set $g (v128.const f32x4 0.625 0.875 0.125 0.375)))
      (else
        (local.set $step (i32.const 8))
        (local.set $g (v128.const f32x4 0.75 0.25 0.75 0.25))))
    (block $rowsDone
      (loop $row
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $p (i32.add (local.get $src) (i32.mul (local.get $r) (local.get $rowBytes))))
        (local.set $end (i32.add (local.get $dst) (i32.shl (i32.mul (local.get $w) (local.get $s)) (i32.const 2))))
        (block $done
          (loop $group
            (br_if $done (i32.ge_u (local.get $dst) (local.get $end)))
            (local.set $l (v128.load (local.get $p)))
            (if (i32.eq (local.get $s) (i32.const 4))
              (then
                ;; [v[x-1], v[x-1], v[x], v[x]] and [v[x], v[x], v[x+1], v[x+1]]
                (local.set $a (i8x16.shuffle 0 1 2 3 0 1 2 3 4 5 6 7 4 5 6 7 (local.get $l) (local.get $l)))
                (local.set $b (i8x16.shuffle 4 5 6 7 4 5 6 7 8 9 10 11 8 9 10 11 (local.get $l) (local.get $l))))
              (else
                ;; [v[2q-1], v[2q], v[2q], v[2q+1]] and [v[2q], v[2q+1], v[2q+1], v[2q+2]]
                (local.set $a (i8x16.shuffle 0 1 2 3 4 5 6 7 4 5 6 7 8 9 10 11 (local.get $l) (local.get $l)))
                (local.set $b (i8x16.shuffle 4 5 6 7 8 9 10 11 8 9 10 11 12 13 14 15 (local.get $l) (local.get $l)))))
            (v128.store (local.get $dst)
              (f32x4.add (local.get $a) (f32x4.mul (local.get $g) (f32x4.sub (local.get $b) (local.get $a)))))
            (local.set $p (i32.add (local.get $p) (local.get $step)))
            (local.set $dst (i32.add (local.get $dst) (i32.const 16)))
            (br $group)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $row))))

  ;; rgb(up, detail, out, w, h, s): `up` holds the three channels' hpass rows (h + 2 rows of W = s·w floats each, channel
  ;; after channel), `detail` the net's luma detail (H × W floats), `out` receives three planes of H × W floats, channel
  ;; after channel: along y the two hpass rows around output row Y (at y + (Y + ½)/s − ½), plus the detail, as the
  ;; graph computes them (no clamp: the graph has none). Four columns at a time (W is a multiple of 4).
  (func (export "rgb") (param $up i32) (param $detail i32) (param $out i32) (param $w i32) (param $h i32) (param $s i32)
    (local $W i32) (local $H i32) (local $rowBytes i32) (local $plane i32) (local $oplane i32) (local $Y i32) (local $X i32)
    (local $a i32) (local $d i32) (local $o i32) (local $k i32) (local $sy f32) (local $fy v128) (local $v v128) (local $r v128)
    (local.set $W (i32.mul (local.get $w) (local.get $s)))
    (local.set $H (i32.mul (local.get $h) (local.get $s)))
    (local.set $rowBytes (i32.shl (local.get $W) (i32.const 2)))
    (local.set $plane (i32.mul (i32.add (local.get $h) (i32.const 2)) (local.get $rowBytes)))
    (local.set $oplane (i32.mul (local.get $H) (local.get $rowBytes)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $Y) (local.get $H)))
        (local.set $sy (f32.sub (f32.div (f32.add (f32.convert_i32_u (local.get $Y)) (f32.const 0.5)) (f32.convert_i32_u (local.get $s))) (f32.const 0.5)))
        (local.set $a (i32.add (local.get $up) (i32.mul (i32.add (i32.trunc_f32_s (f32.floor (local.get $sy))) (i32.const 1)) (local.get $rowBytes))))
        (local.set $fy (f32x4.splat (f32.sub (local.get $sy) (f32.floor (local.get $sy)))))
        (local.set $d (i32.add (local.get $detail) (i32.mul (local.get $Y) (local.get $rowBytes))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $Y) (local.get $rowBytes))))
        (local.set $X (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $X) (local.get $rowBytes)))
            (local.set $v (v128.load (i32.add (local.get $d) (local.get $X))))
            (local.set $k (i32.add (local.get $a) (local.get $X)))
            (local.set $r (v128.load (local.get $k)))
            (v128.store (i32.add (local.get $o) (local.get $X)) (f32x4.add (local.get $v)
              (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $r (v128.load (local.get $k)))
            (v128.store (i32.add (i32.add (local.get $o) (local.get $oplane)) (local.get $X)) (f32x4.add (local.get $v)
              (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $r (v128.load (local.get $k)))
            (v128.store (i32.add (i32.add (local.get $o) (i32.shl (local.get $oplane) (i32.const 1))) (local.get $X)) (f32x4.add (local.get $v)
              (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
            (local.set $X (i32.add (local.get $X) (i32.const 16)))
            (br $cols)))
        (local.set $Y (i32.add (local.get $Y) (i32.const 1)))
        (br $rows))))

  ;; rgb_phases(up, phases, out, w, h, s): as `rgb`, with the detail given as its s² sub-pixel phases at input
  ;; resolution (the pixel shuffle's input: plane i·s + j, h rows of w floats, holds output pixel (s·y + i, s·x + j)),
  ;; so that the shuffle happens here. w is a multiple of 4. Four input columns at a time: at ×4 the four phase rows
  ;; of output row Y are transposed into 16 output samples, at ×2 the two are interleaved into 8.
  (func (export "rgb_phases") (param $up i32) (param $phases i32) (param $out i32) (param $w i32) (param $h i32) (param $s i32)
    (local $W i32) (local $H i32) (local $rowBytes i32) (local $plane i32) (local $oplane i32) (local $pplane i32)
    (local $Y i32) (local $x i32) (local $a i32) (local $p i32) (local $o i32) (local $k i32) (local $sy f32) (local $fy v128)
    (local $q0 v128) (local $q1 v128) (local $q2 v128) (local $q3 v128) (local $t0 v128) (local $t1 v128) (local $t2 v128) (local $t3 v128)
    (local $v v128) (local $r v128) (local $n i32) (local $X i32)
    (local.set $W (i32.mul (local.get $w) (local.get $s)))
    (local.set $H (i32.mul (local.get $h) (local.get $s)))
    (local.set $rowBytes (i32.shl (local.get $W) (i32.const 2)))
    (local.set $plane (i32.mul (i32.add (local.get $h) (i32.const 2)) (local.get $rowBytes)))
    (local.set $oplane (i32.mul (local.get $H) (local.get $rowBytes)))
    (local.set $pplane (i32.shl (i32.mul (local.get $h) (local.get $w)) (i32.const 2)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $Y) (local.get $H)))
        (local.set $sy (f32.sub (f32.div (f32.add (f32.convert_i32_u (local.get $Y)) (f32.const 0.5)) (f32.convert_i32_u (local.get $s))) (f32.const 0.5)))
        (local.set $a (i32.add (local.get $up) (i32.mul (i32.add (i32.trunc_f32_s (f32.floor (local.get $sy))) (i32.const 1)) (local.get $rowBytes))))
        (local.set $fy (f32x4.splat (f32.sub (local.get $sy) (f32.floor (local.get $sy)))))
        ;; Phase row: planes (Y mod s)·s …, row Y div s.
        (local.set $p (i32.add (local.get $phases)
          (i32.add (i32.mul (i32.mul (i32.rem_u (local.get $Y) (local.get $s)) (local.get $s)) (local.get $pplane))
                   (i32.shl (i32.mul (i32.div_u (local.get $Y) (local.get $s)) (local.get $w)) (i32.const 2)))))
        (local.set $o (i32.add (local.get $out) (i32.mul (local.get $Y) (local.get $rowBytes))))
        (local.set $x (i32.const 0))
        (local.set $X (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $x) (local.get $w)))
            (local.set $k (i32.add (local.get $p) (i32.shl (local.get $x) (i32.const 2))))
            (local.set $q0 (v128.load (local.get $k)))
            (local.set $q1 (v128.load (i32.add (local.get $k) (local.get $pplane))))
            (if (i32.eq (local.get $s) (i32.const 4))
              (then
                (local.set $q2 (v128.load (i32.add (local.get $k) (i32.shl (local.get $pplane) (i32.const 1)))))
                (local.set $q3 (v128.load (i32.add (local.get $k) (i32.mul (local.get $pplane) (i32.const 3)))))
                ;; 4×4 transpose: t0 = [q0₀ q1₀ q0₁ q1₁], t1 = [q0₂ q1₂ q0₃ q1₃], t2, t3 the same of q2, q3.
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q0) (local.get $q1)))
                (local.set $t1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q0) (local.get $q1)))
                (local.set $t2 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q2) (local.get $q3)))
                (local.set $t3 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q2) (local.get $q3)))
                (local.set $q0 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t0) (local.get $t2)))
                (local.set $q1 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t0) (local.get $t2)))
                (local.set $q2 (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $t1) (local.get $t3)))
                (local.set $q3 (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $t1) (local.get $t3)))
                (local.set $n (i32.const 4)))
              (else
                ;; Interleave: [q0₀ q1₀ q0₁ q1₁], [q0₂ q1₂ q0₃ q1₃].
                (local.set $t0 (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $q0) (local.get $q1)))
                (local.set $q1 (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $q0) (local.get $q1)))
                (local.set $q0 (local.get $t0))
                (local.set $n (i32.const 2))))
            ;; The n vectors of detail q0 … q(n-1), four output samples each, onto the three channels.
            (block $vecsDone
              (loop $vecs
                (br_if $vecsDone (i32.eqz (local.get $n)))
                (local.set $v (local.get $q0))
                (local.set $q0 (local.get $q1))
                (local.set $q1 (local.get $q2))
                (local.set $q2 (local.get $q3))
                (local.set $k (i32.add (local.get $a) (local.get $X)))
                (local.set $r (v128.load (local.get $k)))
                (v128.store (i32.add (local.get $o) (local.get $X)) (f32x4.add (local.get $v)
                  (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
                (local.set $k (i32.add (local.get $k) (local.get $plane)))
                (local.set $r (v128.load (local.get $k)))
                (v128.store (i32.add (i32.add (local.get $o) (local.get $oplane)) (local.get $X)) (f32x4.add (local.get $v)
                  (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
                (local.set $k (i32.add (local.get $k) (local.get $plane)))
                (local.set $r (v128.load (local.get $k)))
                (v128.store (i32.add (i32.add (local.get $o) (i32.shl (local.get $oplane) (i32.const 1))) (local.get $X)) (f32x4.add (local.get $v)
                  (f32x4.add (local.get $r) (f32x4.mul (local.get $fy) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r))))))
                (local.set $X (i32.add (local.get $X) (i32.const 16)))
                (local.set $n (i32.sub (local.get $n) (i32.const 1)))
                (br $vecs)))
            (local.set $x (i32.add (local.get $x) (i32.const 4)))
            (br $cols)))
        (local.set $Y (i32.add (local.get $Y) (i32.const 1)))
        (br $rows))))

  ;; Four floats rounded to the nearest integer (ties to even) and saturated to 0 … 255, as QuantizeLinear does:
  ;; clamped first, then rounded by adding 2²³ (the sum's float has no fraction bits left, so the addition itself
  ;; rounds, to nearest even) and the integer taken from the low mantissa bits. Inlined below as
  ;;   (i32x4.sub (f32x4.add (f32x4.pmax $zero (f32x4.pmin $max255 v)) $magic) $magicBits)

  ;; tail(up, detail, out, w, h, s, coef): `up` holds the three channels' hpass rows (h + 2 rows of W floats each,
  ;; channel after channel), `detail` the net's luma detail (H × W floats), `out` receives the I420 frame (W × H luma
  ;; bytes, then Cb and Cr at W/2 × H/2). `coef`: 9 floats, the luma weights (R, G, B), then Cb's and Cr's times ¼
  ;; (applied to the sum of a 2×2 block: the same product as the mean times the weight, ¼ being exact); 16 and 128
  ;; are added. Output row Y samples the input at y + (Y + ½)/s − ½. Rows two at a time (H = s·h is even), four
  ;; columns at a time (W is a multiple of 4).
  (func (export "tail") (param $up i32) (param $detail i32) (param $out i32) (param $w i32) (param $h i32) (param $s i32) (param $coef i32)
    (local $W i32) (local $H i32) (local $plane i32) (local $rowBytes i32) (local $Y i32) (local $k i32)
    (local $X i32) (local $yo i32) (local $cb i32) (local $cr i32)
    (local $a0 i32) (local $a1 i32) (local $d0 i32) (local $d1 i32)
    (local $sy f32) (local $fy0 v128) (local $fy1 v128) (local $v v128)
    (local $r0 v128) (local $g0 v128) (local $b0 v128) (local $r1 v128) (local $g1 v128) (local $b1 v128)
    (local $lr v128) (local $lg v128) (local $lb v128) (local $cr4 v128) (local $cg4 v128) (local $cb4 v128)
    (local $zero v128) (local $one v128) (local $max255 v128) (local $magic v128) (local $magicBits v128)
    (local $y16 v128) (local $c128 v128) (local $l0 v128) (local $l1 v128)
    (local.set $W (i32.mul (local.get $w) (local.get $s)))
    (local.set $H (i32.mul (local.get $h) (local.get $s)))
    (local.set $rowBytes (i32.shl (local.get $W) (i32.const 2)))
    (local.set $plane (i32.mul (i32.add (local.get $h) (i32.const 2)) (local.get $rowBytes)))
    (local.set $lr (v128.load32_splat (local.get $coef)))
    (local.set $lg (v128.load32_splat offset=4 (local.get $coef)))
    (local.set $lb (v128.load32_splat offset=8 (local.get $coef)))
    ;; Chroma weights per lane: [Cb, Cb, Cr, Cr] for R, G and B.
    (local.set $cr4 (i8x16.shuffle 0 1 2 3 0 1 2 3 12 13 14 15 12 13 14 15 (v128.load offset=12 (local.get $coef)) (v128.load offset=12 (local.get $coef))))
    (local.set $cg4 (i8x16.shuffle 0 1 2 3 0 1 2 3 12 13 14 15 12 13 14 15 (v128.load offset=16 (local.get $coef)) (v128.load offset=16 (local.get $coef))))
    (local.set $cb4 (i8x16.shuffle 0 1 2 3 0 1 2 3 12 13 14 15 12 13 14 15 (v128.load offset=20 (local.get $coef)) (v128.load offset=20 (local.get $coef))))
    (local.set $one (f32x4.splat (f32.const 1)))
    (local.set $max255 (f32x4.splat (f32.const 255)))
    (local.set $magic (f32x4.splat (f32.const 8388608)))
    (local.set $magicBits (i32x4.splat (i32.const 0x4b000000)))
    (local.set $y16 (f32x4.splat (f32.const 16)))
    (local.set $c128 (f32x4.splat (f32.const 128)))
    (block $rowsDone
      (loop $rows
        (br_if $rowsDone (i32.ge_u (local.get $Y) (local.get $H)))
        ;; Rows Y and Y + 1: first padded input row and weight of the second, for each.
        (local.set $sy (f32.sub (f32.div (f32.add (f32.convert_i32_u (local.get $Y)) (f32.const 0.5)) (f32.convert_i32_u (local.get $s))) (f32.const 0.5)))
        (local.set $a0 (i32.add (local.get $up) (i32.mul (i32.add (i32.trunc_f32_s (f32.floor (local.get $sy))) (i32.const 1)) (local.get $rowBytes))))
        (local.set $fy0 (f32x4.splat (f32.sub (local.get $sy) (f32.floor (local.get $sy)))))
        (local.set $sy (f32.sub (f32.div (f32.add (f32.convert_i32_u (local.get $Y)) (f32.const 1.5)) (f32.convert_i32_u (local.get $s))) (f32.const 0.5)))
        (local.set $a1 (i32.add (local.get $up) (i32.mul (i32.add (i32.trunc_f32_s (f32.floor (local.get $sy))) (i32.const 1)) (local.get $rowBytes))))
        (local.set $fy1 (f32x4.splat (f32.sub (local.get $sy) (f32.floor (local.get $sy)))))
        (local.set $d0 (i32.add (local.get $detail) (i32.mul (local.get $Y) (local.get $rowBytes))))
        (local.set $d1 (i32.add (local.get $d0) (local.get $rowBytes)))
        (local.set $yo (i32.add (local.get $out) (i32.mul (local.get $Y) (local.get $W))))
        (local.set $cb (i32.add (i32.add (local.get $out) (i32.mul (local.get $W) (local.get $H)))
                                (i32.shr_u (i32.mul (local.get $Y) (local.get $W)) (i32.const 2))))
        (local.set $cr (i32.add (local.get $cb) (i32.shr_u (i32.mul (local.get $W) (local.get $H)) (i32.const 2))))
        (local.set $X (i32.const 0))
        (block $colsDone
          (loop $cols
            (br_if $colsDone (i32.ge_u (local.get $X) (local.get $rowBytes)))
            ;; Each channel of both rows: interpolated along y, plus the detail, clamped to [0, 1].
            (local.set $v (v128.load (i32.add (local.get $d0) (local.get $X))))
            (local.set $k (i32.add (local.get $a0) (local.get $X)))
            (local.set $r0 (v128.load (local.get $k)))
            (local.set $r0 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $r0) (f32x4.mul (local.get $fy0) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r0))))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $g0 (v128.load (local.get $k)))
            (local.set $g0 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $g0) (f32x4.mul (local.get $fy0) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $g0))))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $b0 (v128.load (local.get $k)))
            (local.set $b0 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $b0) (f32x4.mul (local.get $fy0) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $b0))))))))
            (local.set $v (v128.load (i32.add (local.get $d1) (local.get $X))))
            (local.set $k (i32.add (local.get $a1) (local.get $X)))
            (local.set $r1 (v128.load (local.get $k)))
            (local.set $r1 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $r1) (f32x4.mul (local.get $fy1) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $r1))))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $g1 (v128.load (local.get $k)))
            (local.set $g1 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $g1) (f32x4.mul (local.get $fy1) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $g1))))))))
            (local.set $k (i32.add (local.get $k) (local.get $plane)))
            (local.set $b1 (v128.load (local.get $k)))
            (local.set $b1 (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $one) (f32x4.add (local.get $v)
              (f32x4.add (local.get $b1) (f32x4.mul (local.get $fy1) (f32x4.sub (v128.load (i32.add (local.get $k) (local.get $rowBytes))) (local.get $b1))))))))
            ;; Luma of both rows, rounded, packed as [row Y: 4 bytes, row Y + 1: 4 bytes].
            (local.set $l0 (f32x4.add (f32x4.add (f32x4.add (f32x4.mul (local.get $lr) (local.get $r0)) (f32x4.mul (local.get $lg) (local.get $g0)))
              (f32x4.mul (local.get $lb) (local.get $b0))) (local.get $y16)))
            (local.set $l1 (f32x4.add (f32x4.add (f32x4.add (f32x4.mul (local.get $lr) (local.get $r1)) (f32x4.mul (local.get $lg) (local.get $g1)))
              (f32x4.mul (local.get $lb) (local.get $b1))) (local.get $y16)))
            (local.set $l0 (i32x4.sub (f32x4.add (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $max255) (local.get $l0))) (local.get $magic)) (local.get $magicBits)))
            (local.set $l1 (i32x4.sub (f32x4.add (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $max255) (local.get $l1))) (local.get $magic)) (local.get $magicBits)))
            (local.set $l0 (i16x8.narrow_i32x4_s (local.get $l0) (local.get $l1)))
            (local.set $l0 (i8x16.narrow_i16x8_u (local.get $l0) (local.get $l0)))
            (local.set $k (i32.add (local.get $yo) (i32.shr_u (local.get $X) (i32.const 2))))
            (v128.store32_lane 0 (local.get $k) (local.get $l0))
            (v128.store32_lane 1 (i32.add (local.get $k) (local.get $W)) (local.get $l0))
            ;; Chroma of the two 2×2 blocks: column sums, then the pairs of columns as [block 0, block 1, block 0,
            ;; block 1], times [Cb, Cb, Cr, Cr] weights: [Cb0, Cb1, Cr0, Cr1].
            (local.set $r0 (f32x4.add (local.get $r0) (local.get $r1)))
            (local.set $g0 (f32x4.add (local.get $g0) (local.get $g1)))
            (local.set $b0 (f32x4.add (local.get $b0) (local.get $b1)))
            (local.set $r0 (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $r0) (local.get $r0))
                                      (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $r0) (local.get $r0))))
            (local.set $g0 (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $g0) (local.get $g0))
                                      (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $g0) (local.get $g0))))
            (local.set $b0 (f32x4.add (i8x16.shuffle 0 1 2 3 8 9 10 11 0 1 2 3 8 9 10 11 (local.get $b0) (local.get $b0))
                                      (i8x16.shuffle 4 5 6 7 12 13 14 15 4 5 6 7 12 13 14 15 (local.get $b0) (local.get $b0))))
            (local.set $v (f32x4.add (f32x4.add (f32x4.add (f32x4.mul (local.get $cr4) (local.get $r0)) (f32x4.mul (local.get $cg4) (local.get $g0)))
              (f32x4.mul (local.get $cb4) (local.get $b0))) (local.get $c128)))
            (local.set $v (i32x4.sub (f32x4.add (f32x4.pmax (local.get $zero) (f32x4.pmin (local.get $max255) (local.get $v))) (local.get $magic)) (local.get $magicBits)))
            (local.set $v (i16x8.narrow_i32x4_s (local.get $v) (local.get $v)))
            (local.set $v (i8x16.narrow_i16x8_u (local.get $v) (local.get $v)))
            (local.set $k (i32.shr_u (local.get $X) (i32.const 3)))
            (v128.store16_lane 0 (i32.add (local.get $cb) (local.get $k)) (local.get $v))
            (v128.store16_lane 1 (i32.add (local.get $cr) (local.get $k)) (local.get $v))
            (local.set $X (i32.add (local.get $X) (i32.const 16)))
            (br $cols)))
        (local.set $Y (i32.add (local.get $Y) (i32.const 2)))
        (br $rows)))))
