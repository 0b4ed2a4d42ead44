;; Fused Adam direction for lrfree's wasm backend (compiled by scripts/build-wasm.ts into adam.wasm.ts).
;; One pass over the gradient instead of TF.js's 13 kernels, with the same float32 operations in the same
;; order as the op path of src/directions/adam.ts, so both give bit-identical results:
;;   m = m0*b1 + g*(1-b1);  v = v0*b2 + (g*g)*(1-b2);  den = sqrt(v/c2) + eps;  d = (m/c1)/den;  s = g/den
;; Pointers are byte offsets into TF.js's own heap (the memory is imported), n counts float32 elements.
(module
  (import "env" "memory" (memory 0))
  (func (export "adam")
    (param $g i32) (param $m0 i32) (param $v0 i32)
    (param $mOut i32) (param $vOut i32) (param $dOut i32) (param $sOut i32) (param $withS i32)
    (param $n i32)
    (param $b1 f32) (param $ob1 f32) (param $b2 f32) (param $ob2 f32)
    (param $c1 f32) (param $c2 f32) (param $eps f32)
    (local $i i32) (local $vecEnd i32) (local $end i32)
    (local $B1 v128) (local $OB1 v128) (local $B2 v128) (local $OB2 v128)
    (local $C1 v128) (local $C2 v128) (local $EPS v128)
    (local $gv v128) (local $mv v128) (local $vv v128) (local $den v128)
    (local $gs f32) (local $ms f32) (local $vs f32) (local $dens f32)
    (local.set $B1 (f32x4.splat (local.get $b1)))
    (local.set $OB1 (f32x4.splat (local.get $ob1)))
    (local.set $B2 (f32x4.splat (local.get $b2)))
    (local.set $OB2 (f32x4.splat (local.get $ob2)))
    (local.set $C1 (f32x4.splat (local.get $c1)))
    (local.set $C2 (f32x4.splat (local.get $c2)))
    (local.set $EPS (f32x4.splat (local.get $eps)))
    (local.set $vecEnd (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2)))
    (local.set $end (i32.shl (local.get $n) (i32.const 2)))
    ;; Four lanes at a time.
    (block $vecDone
      (loop $vec
        (br_if $vecDone (i32.ge_u (local.get $i) (local.get $vecEnd)))
        (local.set $gv (v128.load align=4 (i32.add (local.get $g) (local.get $i))))
        (local.set $mv (f32x4.add
          (f32x4.mul (v128.load align=4 (i32.add (local.get $m0) (local.get $i))) (local.get $B1))
          (f32x4.mul (local.get $gv) (local.get $OB1))))
        (local.set $vv (f32x4.add
          (f32x4.mul (v128.load align=4 (i32.add (local.get $v0) (local.get $i))) (local.get $B2))
          (f32x4.mul (f32x4.mul (local.get $gv) (local.get $gv)) (local.get $OB2))))
        (v128.store align=4 (i32.add (local.get $mOut) (local.get $i)) (local.get $mv))
        (v128.store align=4 (i32.add (local.get $vOut) (local.get $i)) (local.get $vv))
        (local.set $den (f32x4.add (f32x4.sqrt (f32x4.div (local.get $vv) (local.get $C2))) (local.get $EPS)))
        (v128.store align=4 (i32.add (local.get $dOut) (local.get $i))
          (f32x4.div (f32x4.div (local.get $mv) (local.get $C1)) (local.get $den)))
        (if (local.get $withS)
          (then (v128.store align=4 (i32.add (local.get $sOut) (local.get $i))
            (f32x4.div (local.get $gv) (local.get $den)))))
        (local.set $i (i32.add (local.get $i) (i32.const 16)))
        (br $vec)))
    ;; The last n mod 4 elements, one at a time, with the same operations.
    (block $done
      (loop $tail
        (br_if $done (i32.ge_u (local.get $i) (local.get $end)))
        (local.set $gs (f32.load (i32.add (local.get $g) (local.get $i))))
        (local.set $ms (f32.add
          (f32.mul (f32.load (i32.add (local.get $m0) (local.get $i))) (local.get $b1))
          (f32.mul (local.get $gs) (local.get $ob1))))
        (local.set $vs (f32.add
          (f32.mul (f32.load (i32.add (local.get $v0) (local.get $i))) (local.get $b2))
          (f32.mul (f32.mul (local.get $gs) (local.get $gs)) (local.get $ob2))))
        (f32.store (i32.add (local.get $mOut) (local.get $i)) (local.get $ms))
        (f32.store (i32.add (local.get $vOut) (local.get $i)) (local.get $vs))
        (local.set $dens (f32.add (f32.sqrt (f32.div (local.get $vs) (local.get $c2))) (local.get $eps)))
        (f32.store (i32.add (local.get $dOut) (local.get $i))
          (f32.div (f32.div (local.get $ms) (local.get $c1)) (local.get $dens)))
        (if (local.get $withS)
          (then (f32.store (i32.add (local.get $sOut) (local.get $i))
            (f32.div (local.get $gs) (local.get $dens)))))
        (local.set $i (i32.add (local.get $i) (i32.const 4)))
        (br $tail))))

  ;; out[r, c] = min(max(out[r, c] + bias, lo), hi) in place, over `rows` rows of `cols` floats.
  ;; biasMode: 0 no bias, 1 one bias per column, 2 one bias for all. NaN stays NaN (as in TF.js's Relu).
  (func (export "bias_clamp")
    (param $out i32) (param $bias i32) (param $rows i32) (param $cols i32) (param $biasMode i32)
    (param $lo f32) (param $hi f32)
    (local $r i32) (local $c i32) (local $row i32) (local $vecCols i32)
    (local $LO v128) (local $HI v128) (local $B v128) (local $v v128) (local $x f32) (local $b f32)
    (local.set $LO (f32x4.splat (local.get $lo)))
    (local.set $HI (f32x4.splat (local.get $hi)))
    (if (i32.eq (local.get $biasMode) (i32.const 2))
      (then (local.set $b (f32.load (local.get $bias)))))
    (local.set $B (f32x4.splat (local.get $b)))
    (local.set $vecCols (i32.and (local.get $cols) (i32.const -4)))
    (block $rowsDone
      (loop $rowLoop
        (br_if $rowsDone (i32.ge_u (local.get $r) (local.get $rows)))
        (local.set $row (i32.add (local.get $out) (i32.shl (i32.mul (local.get $r) (local.get $cols)) (i32.const 2))))
        (local.set $c (i32.const 0))
        (block $vecDone
          (loop $vec
            (br_if $vecDone (i32.ge_u (local.get $c) (local.get $vecCols)))
            (local.set $v (v128.load align=4 (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $v (f32x4.add (local.get $v)
                (v128.load align=4 (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))))
            (if (i32.eq (local.get $biasMode) (i32.const 2))
              (then (local.set $v (f32x4.add (local.get $v) (local.get $B)))))
            (v128.store align=4 (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))
              (f32x4.min (f32x4.max (local.get $v) (local.get $LO)) (local.get $HI)))
            (local.set $c (i32.add (local.get $c) (i32.const 4)))
            (br $vec)))
        (block $tailDone
          (loop $tail
            (br_if $tailDone (i32.ge_u (local.get $c) (local.get $cols)))
            (local.set $x (f32.load (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))))
            (if (i32.eq (local.get $biasMode) (i32.const 1))
              (then (local.set $x (f32.add (local.get $x)
                (f32.load (i32.add (local.get $bias) (i32.shl (local.get $c) (i32.const 2))))))))
            (if (i32.eq (local.get $biasMode) (i32.const 2))
              (then (local.set $x (f32.add (local.get $x) (local.get $b)))))
            (f32.store (i32.add (local.get $row) (i32.shl (local.get $c) (i32.const 2)))
              (f32.min (f32.max (local.get $x) (local.get $lo)) (local.get $hi)))
            (local.set $c (i32.add (local.get $c) (i32.const 1)))
            (br $tail)))
        (local.set $r (i32.add (local.get $r) (i32.const 1)))
        (br $rowLoop)))))
