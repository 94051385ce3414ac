"""The report's one visual style: colours, fonts, the shared chart layout and the 80% band.

Colours are Okabe & Ito's (2008), told apart with the common colour-vision deficiencies; every
figure goes through `layout` so the page reads as one piece.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # plotly is imported inside functions: the CLI starts faster without it
    import plotly.graph_objects as go

__all__ = [
    "OKABE_ITO",
    "GREY",
    "LIGHT_GREY",
    "BAND",
    "FONT",
    "PLOT_CONFIG",
    "layout",
    "band_edges",
]

# Okabe & Ito (2008): distinguishable with the common colour-vision deficiencies.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "purple": "#CC79A7",
}
GREY = "#8c8c8c"
LIGHT_GREY = "#c8c8c8"
BAND = "rgba(0, 114, 178, 0.22)"  # Okabe-Ito blue, translucent
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
PLOT_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "responsive": True,
    "showSendToCloud": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d"],
    "toImageButtonOptions": {"format": "png", "scale": 2},
}


def layout(fig: go.Figure, *, y_title: str, height: int = 400, legend: bool = True) -> go.Figure:
    fig.update_layout(
        template="none",
        height=height,
        margin={"l": 56, "r": 12, "t": 36 if legend else 12, "b": 40},
        font={"family": FONT, "size": 13, "color": "#1b1b1b"},
        paper_bgcolor="white",
        plot_bgcolor="white",
        hovermode="x unified",
        showlegend=legend,
        legend={
            "orientation": "h",
            "x": 0,
            "xanchor": "left",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": 12},
            "traceorder": "normal",
        },
        separators=".,",
    )
    fig.update_xaxes(showgrid=False, linecolor="#6f777b", ticks="outside", automargin=True)
    fig.update_yaxes(
        title_text=y_title,
        gridcolor="#e6e6e6",
        zeroline=True,
        zerolinecolor="#b1b4b6",
        tickformat=",d",
        rangemode="tozero",
        automargin=True,
    )
    return fig


UK_TICK = "%-d %b %Y"  # 30 Nov 2025: UK order, never "Nov 30"
UK_HOVER = "%-d %B %Y"  # 30 November 2025


def uk_dates(fig: go.Figure, *, tick: str = UK_TICK, hover: str = UK_HOVER) -> go.Figure:
    """Day-month-year ticks and hover labels on the date axis (Plotly's default is "Nov 30")."""
    fig.update_xaxes(tickformat=tick, hoverformat=hover)
    return fig


def band_edges(
    x: list[str],
    lower: list[float],
    upper: list[float],
    *,
    name: str,
    hover: bool = True,
    legendrank: int | None = None,
) -> list[go.Scatter]:
    """The two edges of a shaded 80% band: the upper (p90) first, then the lower (p10) filled
    up to it. `hover` names each edge on hover; otherwise hover skips the band."""
    import plotly.graph_objects as go

    def edge(y: list[float], which: str, **extra: Any) -> go.Scatter:
        label = f"{which} of the 80% range"
        return go.Scatter(
            x=x,
            y=y,
            mode="lines",
            line={"width": 0, "color": OKABE_ITO["blue"]} if hover else {"width": 0},
            hovertemplate="%{y:,.0f}<extra>" + label + "</extra>" if hover else None,
            hoverinfo=None if hover else "skip",
            **extra,
        )

    top = edge(
        upper,
        "top",
        showlegend=False,
        name="top of the 80% range" if hover else f"{name}, top",
    )
    bottom = edge(lower, "bottom", fill="tonexty", fillcolor=BAND, name=name)
    if legendrank is not None:
        bottom.update(legendrank=legendrank)
    return [top, bottom]
