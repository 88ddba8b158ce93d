"""OpenAPI shapes of the service, for ``/docs`` and for clients: pydantic models used only to describe.

Requests are parsed by :mod:`simulator.decide_api` (the rules of ``mecsim decide``), not by these models, so the
decision path builds no model per request. The task fields come from :data:`simulator.decide_api.QUANTITIES`:
a quantity added there appears here.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, create_model

from simulator.decide_api import QUANTITIES
from simulator.serve.estimates import EDGE_QUANTITIES, LINK_QUANTITIES

Number = float | str


def _fields(value_type: Any) -> dict[str, Any]:
    quantities = {q.name.replace("-", "_"): (value_type | None, Field(None, alias=q.name, description=q.help))
                  for q in QUANTITIES}
    settings = {
        "objective": (Literal["latency", "energy", "weighted"], Field("latency")),
        "energy_view": (Literal["device", "system"], Field("device", alias="energy-view")),
        "w_latency": (Number | None, Field(None, alias="w-latency", description="Weighted objective only.")),
        "w_energy": (Number | None, Field(None, alias="w-energy", description="Weighted objective only.")),
        "normalise": (bool, Field(False, description="Weighted objective only.")),
        "device": (str | None, Field(None, description="A device profile named in the --config file.")),
        "target": (str | None, Field(None, description="A target named in the --config file; its live estimates "
                                                       "apply.")),
    }
    return quantities | settings


_STRICT = ConfigDict(extra="forbid", populate_by_name=True)
TaskRequest = create_model("TaskRequest", __config__=_STRICT, **_fields(Number))
BatchRequest = create_model("BatchRequest", __config__=_STRICT, **_fields(Number | list[Number]))


class OptionAnswer(BaseModel):
    """One way to run the task."""

    latency_s: float
    energy_j: float | None
    score: float
    meets_deadline: bool


class Breakdown(BaseModel):
    """The offload latency, term by term."""

    upload_s: float
    round_trip_s: float
    wait_s: float
    compute_s: float
    download_s: float


class OffloadAnswer(OptionAnswer):
    """Offloading, with its latency breakdown."""

    breakdown: Breakdown


class BreakEvenAnswer(BaseModel):
    """The uplink at which the decision flips."""

    uplink_bps: float | None
    offload_wins: Literal["above", "below", "always", "never"]


class ViewEnergy(BaseModel):
    """Both options' energy in one view."""

    local_j: float
    offload_j: float


class Energies(BaseModel):
    """Each view's energies, when its powers were given."""

    device: ViewEnergy | None
    system: ViewEnergy | None


class DecideAnswer(BaseModel):
    """The answer of ``mecsim decide --json``."""

    decision: Literal["local", "offload"]
    objective: Literal["latency", "energy", "weighted"]
    energy_view: Literal["device", "system"]
    deadline_s: float | None
    deadline_missed: bool
    local: OptionAnswer
    offload: OffloadAnswer
    break_even: BreakEvenAnswer
    energies: Energies
    unused: list[str]


class BatchAnswer(BaseModel):
    """One array per column, as ``mecsim decide --batch`` writes them."""

    count: int
    columns: dict[str, list[float | str | bool | None]]


_OBSERVED: dict[str, Any] = {
    "target": (str, Field(description="A target named in the --config file.")),
    "device": (str | None, Field(None, description="A device named in the --config file: the link is its own.")),
} | {name.replace("-", "_"): (Number | None, Field(None, alias=name)) for name in (*LINK_QUANTITIES, *EDGE_QUANTITIES)}
ObserveRequest = create_model("ObserveRequest", __config__=_STRICT, **_OBSERVED)


class EstimateState(BaseModel):
    """A smoothed value."""

    value: float
    observations: int
    age_s: float


class ObserveAnswer(BaseModel):
    """The estimates after the observation, for the link and the target it concerns."""

    estimates: dict[str, dict[str, EstimateState]]


class StateAnswer(BaseModel):
    """Configuration and every live estimate."""

    half_life: float
    devices: list[str]
    targets: list[str]
    estimates: dict[str, dict[str, EstimateState]]


class MonitorEntry(BaseModel):
    """The platform's monitor format."""

    AvgQPM: float
    AvgReqTime: str
    Counter: int


class MonitorAnswer(MonitorEntry):
    """The whole service, and the same per endpoint."""

    endpoints: dict[str, MonitorEntry]


class Health(BaseModel):
    """Liveness."""

    status: Literal["ok"]


class ErrorItem(BaseModel):
    """One problem: where (``["body", field]``), what rule, and the value given."""

    loc: list[str | int]
    msg: str
    type: str
    input: Any = None


class ValidationErrorAnswer(BaseModel):
    """422: every field and rule broken."""

    detail: list[ErrorItem]


class MessageAnswer(BaseModel):
    """401 or 413: what was refused and why."""

    detail: str
