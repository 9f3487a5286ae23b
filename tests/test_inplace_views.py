"""In-place ops, setitem and views in the graph, each scenario run under PyTorch too (scenario_oracle.py):
the new history (CopySlices for views), version counters, the checks that raise instead of giving a
silently wrong gradient."""
import pytest

from scenario_oracle import same, same_error


def _m(L):
    return L.tensor([[1., 2., 3.], [4., 5., 6.]], requires_grad=True)


def _weights(L):
    return L.tensor([[1., -2., 3.], [0.5, 2., -1.]])


# ---- in-place ops on non-leaf tensors -------------------------------------------------------------------------
@pytest.mark.parametrize("op", [
    lambda L, y, x: y.add_(x),
    lambda L, y, x: y.add_(x, alpha=3),
    lambda L, y, x: y.add_(2.5),
    lambda L, y, x: y.sub_(x * x),
    lambda L, y, x: y.mul_(x),
    lambda L, y, x: y.mul_(-3),
    lambda L, y, x: y.div_(x + 1),
    lambda L, y, x: y.div_(4),
    lambda L, y, x: y.zero_(),
    lambda L, y, x: y.fill_(7),
    lambda L, y, x: y.fill_(x[0, 1]),
    lambda L, y, x: y.copy_(x.exp()),
    lambda L, y, x: y.copy_(L.tensor([1., 2., 3.])),
    lambda L, y, x: y.clamp_(4, 9),
    lambda L, y, x: y.clamp_(min=5),
    lambda L, y, x: y.pow_(2),
    lambda L, y, x: y.mul_(x).sub_(1).exp_(),
    lambda L, y, x: y.__iadd__(x),
    lambda L, y, x: y.__imul__(2),
], ids=["add", "add_alpha", "add_scalar", "sub", "mul", "mul_scalar", "div", "div_scalar", "zero", "fill",
        "fill_tensor", "copy", "copy_constant_broadcast", "clamp", "clamp_min", "pow", "chain", "iadd", "imul"])
def test_inplace_op_on_non_leaf(op, device):
    def scenario(L):
        x = _m(L)
        y = x * 2
        r = op(L, y, x)
        (y * _weights(L)).sum().backward()
        return r is y, y, y.grad_fn, y._version, x.grad
    same(scenario, device=device)


def test_inplace_op_keeps_requires_grad_for_a_tensor_that_had_none(device):
    def scenario(L):
        x = _m(L)
        y = L.zeros(2, 3)
        y.add_(x)
        z = L.ones(3)
        z.copy_(x[1])
        (y * _weights(L)).sum().backward()
        (z * z).sum().backward()
        return y.requires_grad, y.is_leaf, y.grad_fn, z.grad_fn, x.grad
    same(scenario, device=device)


def test_inplace_on_leaf_that_requires_grad_raises(device):
    same_error(lambda L: _m(L).add_(1), RuntimeError,
               "a leaf Variable that requires grad is being used in an in-place operation.", device=device)
    same_error(lambda L: _m(L).zero_(), RuntimeError, "a leaf Variable that requires grad", device=device)
    same_error(lambda L: _m(L)[0].mul_(2), RuntimeError,
               "a view of a leaf Variable that requires grad is being used in an in-place operation.", device=device)

    def setitem(L):
        _m(L)[0, 0] = 3.
    same_error(setitem, RuntimeError,
               "a view of a leaf Variable that requires grad is being used in an in-place operation", device=device)


def test_inplace_on_leaf_allowed_under_no_grad(device):
    def scenario(L):
        x = _m(L)
        with L.no_grad():
            x.mul_(2)
            x[0, 0] = 10.
            x.add_(x)
        (x * x).sum().backward()
        return x, x.grad, x._version, x.is_leaf, x.requires_grad
    same(scenario, device=device)


def test_inplace_that_cannot_cast_raises(device):
    same_error(lambda L: L.tensor([1, 2]).add_(1.5), RuntimeError,
               "result type Float can't be cast to the desired output type Long", device=device)
    same_error(lambda L: L.tensor([True]).mul_(L.tensor([2])), RuntimeError,
               "result type Long can't be cast to the desired output type Bool", device=device)


def test_inplace_shape_must_not_grow(device):
    same_error(lambda L: L.zeros(3).add_(L.ones(2, 3)), RuntimeError,
               "output with shape [3] doesn't match the broadcast shape [2, 3]", device=device)


# ---- setitem ------------------------------------------------------------------------------------------
def test_setitem_into_zeros_idiom(device):
    def scenario(L):
        m = L.tensor([[1., 2.], [3., 4.]], requires_grad=True)
        n = L.zeros(1, 2)
        n[0, 0] = m[0, 0] ** 2
        n[0, 1] = m[1, 1] ** 3
        n.sum().backward()
        return n, n.grad_fn, n.grad_fn.next_functions, m.grad
    got = same(scenario, device=device)
    assert got[1] == ("node", "CopySlices")


@pytest.mark.parametrize("write", [
    lambda L, y, v: y.__setitem__(0, 5.),
    lambda L, y, v: y.__setitem__((1, 2), v[0] * v[1]),
    lambda L, y, v: y.__setitem__((slice(None), 1), v),
    lambda L, y, v: y.__setitem__((Ellipsis, slice(0, 3, 2)), v),
    lambda L, y, v: y.__setitem__(1, v.sum()),
    lambda L, y, v: y.__setitem__(L.tensor([1, 0]), L.ones(3) * v[0]),
    lambda L, y, v: y.__setitem__(y > 6, 0.),
    lambda L, y, v: y.__setitem__(y > 6, v.sum()),
    lambda L, y, v: y.__setitem__((L.tensor([0, 1]), L.tensor([2, 0])), v),
    lambda L, y, v: y.__setitem__(slice(1, None), v[0]),
], ids=["row_scalar", "element_tensor", "column", "strided", "row_broadcast", "advanced_rows", "mask_scalar",
        "mask_tensor", "advanced_pairs", "fill_rows"])
def test_setitem_gradients_go_to_written_values_only(write, device):
    def scenario(L):
        x = _m(L)
        v = L.tensor([10., 20.], requires_grad=True)
        y = x * 2
        write(L, y, v)
        (y * _weights(L)).sum().backward()
        return y, y.grad_fn, x.grad, v.grad
    same(scenario, device=device)


def test_setitem_of_tensor_without_grad_into_tensor_without_grad_records_nothing(device):
    def scenario(L):
        y = L.zeros(2, 3)
        y[0] = L.tensor([1., 2., 3.])
        y[1, 1] = 5
        return y, y.requires_grad, y.grad_fn, y._version
    same(scenario, device=device)


# ---- version counters ------------------------------------------------------------------------------------------
def test_version_counter_is_shared_by_views_and_detached_aliases(device):
    def scenario(L):
        x = L.ones(3, 4)
        v, d, row = x[1:], x.detach(), x[0]
        r = [x._version]
        x.add_(1)
        r.append((x._version, v._version, d._version, row._version))
        v.mul_(2)
        r.append((x._version, d._version))
        d.zero_()
        row[0] = 3.
        x.t().add_(1)
        r.append((x._version, v._version, d._version, row._version))
        x.data.add_(1)          # .data shares memory but not the counter
        x.clone().add_(1)
        r.append(x._version)
        return r
    same(scenario, device=device)


def test_modified_saved_input_raises_at_backward():
    def scenario(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = y * y
        y.add_(1)
        z.sum().backward()
    same_error(scenario, RuntimeError,
               "one of the variables needed for gradient computation has been modified by an inplace operation: "
               "[torch.FloatTensor [2]], which is output 0 of Add")
    same_error(scenario, RuntimeError, "is at version 1; expected version 0 instead")


def test_modified_saved_output_raises_at_backward():
    def scenario(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x.exp()
        y.mul_(2)
        y.sum().backward()
    same_error(scenario, RuntimeError, "[torch.FloatTensor [2]], which is output 0 of Exp, is at version 1")


def test_saved_element_view_overwritten_by_write_through_another_view_raises(device):
    def scenario(L):
        y = _m(L) * 1
        y.select(1, 2).mul_(y[0, 0].detach())   # y[0, 0] shares y's version counter, saved by the mul
        (y * y).sum().backward()
    same_error(scenario, RuntimeError,
               "one of the variables needed for gradient computation has been modified", device=device)


@pytest.mark.parametrize("modify", [
    lambda L, y: y.detach().zero_(),
    lambda L, y: y[0].mul_(2),
    lambda L, y: y.view(2, 2).add_(1),
    lambda L, y: y.__setitem__(1, 0.),
], ids=["detached_alias", "view", "reshaped_view", "setitem"])
def test_modification_through_an_alias_is_detected(modify, device):
    def scenario(L):
        x = L.tensor([1., 2., 3., 4.], requires_grad=True)
        y = x.sigmoid()
        out = (y * 3).sum() + y.tanh().sum()
        modify(L, y)
        out.backward()
    same_error(scenario, RuntimeError, "one of the variables needed for gradient computation has been modified by an "
                                       "inplace operation", device=device)


def test_modification_through_data_is_not_detected(device):
    def scenario(L):
        x = L.tensor([1., 2., 3.], requires_grad=True)
        y = x.exp()
        y.data.zero_()
        y.sum().backward()
        return x.grad, y._version
    same(scenario, device=device)


def test_inplace_after_save_then_restore_is_still_detected(device):
    def scenario(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 1
        z = y.sin()
        y.mul_(2)
        y.div_(2)       # same values, but two more writes
        z.sum().backward()
    same_error(scenario, RuntimeError, "is at version 2; expected version 0 instead", device=device)


# ---- in-place writes through views of tensors in the graph ---------------------------------------------------
@pytest.mark.parametrize("program", [
    "y[0].mul_(2)",
    "v = y[:, 1]; v.add_(w * w)",
    "y.t().mul_(3)",
    "y[1:].zero_()",
    "y[:, ::2].copy_(w.unsqueeze(1) * 10)",
    "y.view(6)[2:5].sub_(w.sum())",
    "y.reshape(3, 2)[0].div_(w + 3)",
    "v = y[1:]; w2 = v[:, ::2]; w2.mul_(10)",
    "y.transpose(0, 1)[2].clamp_(0, 3)",
    "y.unsqueeze(0)[0, 1, 2].fill_(-1)",
    "y.squeeze().narrow(1, 0, 2).pow_(2)",
    "y.permute(1, 0).flatten()[::2] if False else y.permute(1, 0)[0].exp_()",
    "y.select(1, 2).mul_(x[0, 0].detach())",
    "v = y[0]; v.mul_(2); v.add_(w[0])",
    "y[0].mul_(2); y[1].add_(y[0])",
    "y.expand(2, 2, 3)[0] if False else y.view(3, 2).t()[1].mul_(5)",
])
def test_inplace_through_view_gives_pytorchs_gradient(program, device):
    def scenario(L):
        x = _m(L)
        w = L.tensor([1.5, -0.5], requires_grad=True)
        y = x * 1
        exec(program, {"L": L}, {"x": x, "y": y, "w": w})
        out = (y * y * _weights(L)).sum()
        out.backward()
        return y, x.grad, w.grad
    same(scenario, device=device)


@pytest.mark.parametrize("program", [
    "v = y[1]; y.mul_(2); out = (v ** 2).sum()",
    "v = y[:, 1:]; y.add_(x); out = (v * v).sum()",
    "v = y.t(); y[0, 0] = 100.; out = (v ** 3).sum()",
    "v = y[0]; u = y[1]; u.mul_(3); out = (v * u).sum() + (y ** 2).sum()",
    "v = y.view(6); v[0] = x[1, 1] * 4; out = (y * y).sum() + v.sum()",
    "v = y[0]; v.mul_(2); out = v.sum() * 3 + y.sum()",
])
def test_view_used_after_its_base_changed(program, device):
    def scenario(L):
        x = _m(L)
        y = x * 1
        ns = {"x": x, "y": y}
        exec(program, {"L": L}, ns)
        ns["out"].backward()
        return y, ns["v"], ns["v"].grad_fn is not None, x.grad
    same(scenario, device=device)


def test_view_grad_fn_is_rebuilt_after_base_write(device):
    def scenario(L):
        x = _m(L)
        y = x * 1
        v = y[0]
        y.mul_(2)
        return v.requires_grad, v.grad_fn is not None, v.is_leaf, y.grad_fn, v._version
    same(scenario, device=device)


def test_inplace_on_view_of_leaf_under_no_grad_then_use(device):
    def scenario(L):
        x = _m(L)
        with L.no_grad():
            x[0].mul_(10)
        (x * x).sum().backward()
        return x, x.grad
    same(scenario, device=device)


def test_view_created_in_no_grad_then_modified_with_grad_raises(device):
    def leaf_base(L):
        x = _m(L)
        with L.no_grad():
            v = x[0]
        v.mul_(2)

    def non_leaf_base(L):
        y = _m(L) * 1
        with L.no_grad():
            v = y[:1]
        v.mul_(2)

    def base_without_grad(L):
        y = L.ones(2, 3)
        with L.no_grad():
            v = y[0]
        v.mul_(L.ones(3, requires_grad=True))

    phrase = "A view was created in no_grad mode and is being modified inplace with grad mode enabled"
    for s in (leaf_base, non_leaf_base, base_without_grad):
        same_error(s, RuntimeError, phrase, device=device)


def test_view_created_in_no_grad_and_modified_in_no_grad_is_fine(device):
    def scenario(L):
        x = _m(L)
        y = x * 1
        with L.no_grad():
            v = y[:1]
            v.mul_(2)
        (y * y).sum().backward()
        return y, x.grad, y._version
    same(scenario, device=device)


def test_no_grad_view_used_after_its_base_changed_raises(device):
    def scenario(L):
        y = _m(L) * 1
        with L.no_grad():
            v = y[0]
        y.mul_(2)
        return v.grad_fn
    same_error(scenario, RuntimeError, "A view was created in no_grad mode and its base or another view of its base "
                                       "has been modified inplace with grad mode enabled", device=device)

    def leaf_written_in_no_grad(L):     # PyTorch refuses this too: the view's version is stale
        p = _m(L)
        with L.no_grad():
            v = p[0]
            p.add_(1)
        return v.grad_fn
    same_error(leaf_written_in_no_grad, RuntimeError, "A view was created in no_grad mode and its base", device=device)


def test_inplace_on_output_of_multi_view_op_raises(device):
    def scenario(L):
        y = _m(L) * 1
        a, b = y.split(1)
        a.mul_(2)
    same_error(scenario, RuntimeError, "Output 0 of Split is a view and is being modified inplace. This view is the "
                                       "output of a function that returns multiple views", device=device)


def test_inplace_into_expanded_tensor_raises(device):
    def scenario(L):
        y = L.arange(3.).expand(2, 3)
        y.add_(1)
    same_error(scenario, RuntimeError, "unsupported operation: more than one element of the written-to tensor "
                                       "refers to a single memory location", device=device)


def test_inplace_overlapping_self_read_is_caught_before_a_wrong_gradient(device):
    """PyTorch refuses `v.mul_(y)` where v aliases y up front; we let the forward run (its values are right)
    and refuse at backward, since the saved y was overwritten: never a silently wrong gradient."""
    import autograd_gpu as ag
    x = ag.arange(4., device=device).requires_grad_()
    y = x.sin()
    v = y.unsqueeze(0)
    v.mul_(y)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_clamp_and_fill_node_names_match(device):
    def scenario(L):
        x = _m(L)
        out = []
        for f in ("clamp_(0, 5)", "clamp_(min=2)", "fill_(3)", "zero_()", "add_(1)", "mul_(2)", "div_(2)", "sub_(1)"):
            y = x * 2
            eval("y." + f, {}, {"y": y})
            out.append((f, y.grad_fn, y.grad_fn.next_functions))
        return out
    same(scenario, device=device)


@pytest.mark.filterwarnings("ignore:divide by zero:RuntimeWarning", "ignore:invalid value:RuntimeWarning")
def test_fill_and_zero_backward_ignore_inf_in_incoming_grad(device):
    def scenario(L):
        x = L.tensor([1., 2.], requires_grad=True)
        y = x * 1
        y[0].zero_()
        y[1].fill_(0.)
        out = (y.log() * 0).sum() + x.sum()   # d(log)/dy at 0 is inf; zero_ and fill_ send 0, not inf * 0
        out.backward()
        return x.grad
    same(scenario, device=device)


# ---- what mul and div save: an operand only where another operand's gradient reads it (as PyTorch) --------
@pytest.mark.parametrize("op", [lambda y, c: y * c, lambda y, c: c * y, lambda y, c: y / c],
                         ids=["mul", "rmul", "div"])
def test_an_operand_no_gradient_reads_may_change_in_place(op, device):
    def scenario(L):
        x = _m(L)
        y = x * 2
        c = _weights(L) + 3
        z = op(y, c)
        y.add_(1)  # y's value is not saved: its gradient reads only c
        z.sum().backward()
        return z, x.grad
    same(scenario, device=device)


@pytest.mark.parametrize("op", [lambda y, c: y * c, lambda y, c: c * y, lambda y, c: y / c],
                         ids=["mul", "rmul", "div"])
def test_an_operand_a_gradient_reads_may_not_change_in_place(op, device):
    def scenario(L):
        y = _m(L) * 2
        c = _weights(L) + 3
        z = op(y, c)
        c.add_(1)
        z.sum().backward()
    same_error(scenario, RuntimeError, "modified by an inplace operation", device=device)
